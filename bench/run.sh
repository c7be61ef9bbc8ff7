#!/usr/bin/env bash
# The benchmark: the release binary on a fresh database, driven over loopback by wrk.
#
#   bench/run.sh [sqlite|postgres]
#
# Prints one table (req/s, p50 and p99 latency, errors, the server's CPU time per
# request, its resident memory), then what the table alone does not show (peak memory,
# the argon2 ceiling, statements per session check, scale-out, a large database, the
# clean-up) and the performance goals with the figures measured against them. Writes
# all of it to bench/results-<backend>.md.
#
# The run: the cases on a small database (one user); the signed-in check split over
# two instances of the app on the same database; then 100,000 users and 1,000,000
# sessions (3 in 10 expired) are seeded and the signed-in check runs again, without and
# then during the expired-session clean-up. Then bench/email.sh runs (its own results
# file); BENCH_EMAIL=0 skips it.
#
# Settings: BENCH_DURATION (default 10s per case), BENCH_PORT (8090; the second
# instance uses the next port), BENCH_PG_URL (a PostgreSQL server where a scratch
# database is created and dropped; default postgres://postgres@127.0.0.1:5432/postgres).
# The app inherits the environment, so AUTH_* settings apply to it: for example
# AUTH_ARGON2_MEMORY_KIB=7168 AUTH_ARGON2_ITERATIONS=5 (OWASP's lower-memory argon2
# setting; the argon2 ceiling is measured with the same parameters).
set -euo pipefail
cd "$(dirname "$0")/.."

BACKEND="${1:-sqlite}"
DURATION="${BENCH_DURATION:-10s}"
PORT="${BENCH_PORT:-8090}"
PORT2=$((PORT + 1))
PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
BASE="http://127.0.0.1:${PORT}"
OUT="bench/results-${BACKEND}.md"
PASSWORD="correct horse battery staple"
USERS=100000
SESSIONS=1000000

# shellcheck source=bench/lib.sh
source bench/lib.sh

echo "== starting the app on ${BASE} (${BACKEND})"
start_app "$PORT"
SERVER_PID="${PIDS[-1]}"

# One user, signed in: the session cookie, and a CSRF token and cookie for sign-ins.
JAR="$WORK/jar"
csrf() { curl -s -b "$JAR" -c "$JAR" "$BASE/api/auth/csrf" | sed 's/.*"csrfToken":"\([^"]*\)".*/\1/'; }
TOKEN="$(csrf)"
curl -s -b "$JAR" -c "$JAR" -o /dev/null --data-urlencode "email=bench@example.com" \
  --data-urlencode "password=$PASSWORD" --data-urlencode "csrfToken=$TOKEN" "$BASE/signup"
cookie() { awk -v n="$1" '$6 == n { print $7 }' "$JAR"; }
SESSION="authjs.session-token=$(cookie authjs.session-token)"
[ "$SESSION" != "authjs.session-token=" ] || { echo "sign-up failed"; exit 1; }
# Signing up renews the CSRF token: the one the jar holds now.
TOKEN="$(csrf)"
export BENCH_EMAIL="bench@example.com" BENCH_PASSWORD="$PASSWORD" BENCH_CSRF="$TOKEN"
export BENCH_CSRF_COOKIE="authjs.csrf-token=$(cookie authjs.csrf-token)"



echo "== cases (wrk: 2 threads, 32 connections, ${DURATION} each)"
case "$BACKEND" in
  postgres) read -r X0 S0 U0 W0 <<<"$(pg_counters)" ;;
  sqlite) FILES0="$(sqlite_files)" ;;
esac
run_case "GET /api/auth/session, signed in" "$SERVER_PID" -H "Cookie: $SESSION" "$BASE/api/auth/session"
CHECKS="$LAST_REQUESTS" SMALL_RPS="$LAST_RPS" SMALL_P99="$LAST_P99" SMALL_CPU="$LAST_CPU"
case "$BACKEND" in
  postgres)
    read -r X1 S1 U1 W1 <<<"$(pg_counters)"
    # The reading before the case is itself one committed transaction.
    STATEMENTS="$(awk -v x0="$X0" -v x1="$X1" -v s0="$S0" -v s1="$S1" -v u0="$U0" -v u1="$U1" -v w="$((W1 - W0))" -v n="$CHECKS" \
      'BEGIN { printf "%.4f statements (committed transactions), %.4f index scans of sessions and %.4f scans of users, and %d session rows updated, per check (PostgreSQL statistics over the %d checks wrk counted; it leaves out the last 32 in flight when it stops)", (x1 - x0 - 1) / n, (s1 - s0) / n, (u1 - u0) / n, w, n }')"
    WRITES=$((W1 - W0))
    ;;
  sqlite)
    FILES1="$(sqlite_files)"
    if [ "$FILES0" = "$FILES1" ]; then
      WRITES=0
      STATEMENTS="the database file and its WAL were not written during the ${CHECKS} checks (size and modification time unchanged)"
    else
      WRITES=1
      STATEMENTS="the database file or its WAL was WRITTEN during the ${CHECKS} checks"
    fi
    ;;
esac
run_case "GET /api/auth/session, signed out" "$SERVER_PID" "$BASE/api/auth/session"
run_case "GET /sessions, signed in (template page)" "$SERVER_PID" -H "Cookie: $SESSION" "$BASE/sessions"
# The argon2 ceiling just before, with the app idle: the app's parameters (its defaults,
# or AUTH_ARGON2_* from the environment, which the app inherits too).
read -r HASH_MS CORES HASH_CEILING ARGON2_KIB ARGON2_T ARGON2_P <<<"$(./target/release/examples/argon2-time)"
echo "(argon2 alone: ${HASH_MS} ms per hash, ${HASH_CEILING} hashes/s on ${CORES} cores)"
run_case "POST /api/auth/callback/credentials (argon2)" "$SERVER_PID" -s bench/signin.lua "$BASE/api/auth/callback/credentials"
SIGNIN_RPS="$LAST_RPS"

# The signed-in check while sign-ins flood the server (16 more connections).
wrk -t1 -c16 -d"$(( ${DURATION%s} + 2 ))s" -s bench/signin.lua "$BASE/api/auth/callback/credentials" >"$WORK/flood" &
FLOOD=$!
sleep 1
run_case "GET /api/auth/session, signed in, during a sign-in flood" "$SERVER_PID" -H "Cookie: $SESSION" "$BASE/api/auth/session"
FLOOD_P99="$LAST_P99"
wait "$FLOOD" || true
FLOOD_SIGNINS="$(awk '/Requests\/sec/ { printf "%.0f", $2 }' "$WORK/flood")"

# Two instances on the one database, each wrk thread (16 connections) on one of them,
# against one instance alone.
echo "== a second instance on port ${PORT2}: one instance, then the load split between the two"
start_app "$PORT2"
SECOND_PID="${PIDS[-1]}"
export BENCH_SPLIT_PORTS="$PORT $PORT2"
ONE=(-H "Cookie: $SESSION" "$BASE/api/auth/session")
SPLIT=(-s bench/split.lua -H "Cookie: $SESSION" "$BASE/api/auth/session")
run_pair "GET /api/auth/session, signed in, one instance (interleaved with the next)" "$SERVER_PID" ONE \
  "GET /api/auth/session, signed in, split over two instances" "$SERVER_PID $SECOND_PID" SPLIT
ONE_RPS="$PAIR_A_RPS" SPLIT_RPS="$LAST_RPS"
stop_app "$SECOND_PID"
stop_app "$SERVER_PID"

# A copy of the small database, to compare the large one with at the same moment.
case "$BACKEND" in
  sqlite)
    SMALL_URL="sqlite://${WORK}/small.db"
    sql ".backup '${WORK}/small.db'"
    ;;
  postgres)
    SMALL_URL="${PG_URL%/*}/${PG_DB}_small"
    psql -q "$PG_URL" -c "CREATE DATABASE ${PG_DB}_small TEMPLATE $PG_DB" >/dev/null
    ;;
esac

# A large database: 100,000 users with 10 sessions each, 3 in 10 of them expired.
echo "== seeding ${USERS} users and ${SESSIONS} sessions"
NOW="$(date +%s)"
SEED_START="$(date +%s.%N)"
case "$BACKEND" in
  sqlite)
    sql <<SQL
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${USERS})
INSERT INTO users (id, name, email, password_hash, created_at, updated_at)
SELECT lower(hex(randomblob(16))), 'User ' || i, 'user' || i || '@example.com',
       (SELECT password_hash FROM users WHERE email = 'bench@example.com'), ${NOW}, ${NOW} FROM n;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${SESSIONS} - 1)
INSERT INTO sessions (id, secret_hash, user_id, created_at, expires_at, last_active_at, user_agent, ip)
SELECT lower(hex(randomblob(16))), lower(hex(randomblob(32))),
       (SELECT id FROM users WHERE email = 'user' || (i % ${USERS} + 1) || '@example.com'),
       ${NOW} - 864000,
       CASE WHEN i % 10 < 3 THEN ${NOW} - 1 - i % 86400 ELSE ${NOW} + 86400 + i % 2000000 END,
       ${NOW} - 864000 + i % 86400,
       'Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0', '192.0.2.' || (i % 250)
FROM n;
COMMIT;
ANALYZE;
SQL
    ;;
  postgres)
    psql -q -v ON_ERROR_STOP=1 "$DATABASE_URL" <<SQL
INSERT INTO users (id, name, email, password_hash, created_at, updated_at)
SELECT md5('user' || i || random()), 'User ' || i, 'user' || i || '@example.com',
       (SELECT password_hash FROM users WHERE email = 'bench@example.com'), ${NOW}, ${NOW}
FROM generate_series(1, ${USERS}) i;
INSERT INTO sessions (id, secret_hash, user_id, created_at, expires_at, last_active_at, user_agent, ip)
SELECT md5('session' || i || random()), md5(random()::text) || md5(random()::text), u.id,
       ${NOW} - 864000,
       CASE WHEN i % 10 < 3 THEN ${NOW} - 1 - i % 86400 ELSE ${NOW} + 86400 + i % 2000000 END,
       ${NOW} - 864000 + i % 86400,
       'Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0', '192.0.2.' || (i % 250)
FROM generate_series(0, ${SESSIONS} - 1) i JOIN users u ON u.email = 'user' || (i % ${USERS} + 1) || '@example.com';
VACUUM ANALYZE;
SQL
    # Write the seeded pages out now rather than during the measurements (needs a
    # superuser or pg_checkpoint; without it the checkpointer does it in the background).
    psql -q "$DATABASE_URL" -c "CHECKPOINT" >/dev/null 2>&1 || true
    ;;
esac
SEED_SECONDS="$(awk -v a="$SEED_START" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')"
EXPIRED="$(sql "SELECT COUNT(*) FROM sessions WHERE expires_at <= $(date +%s)")"
TOTAL="$(sql "SELECT COUNT(*) FROM sessions")"
TOTAL_USERS="$(sql "SELECT COUNT(*) FROM users")"
echo "seeded in ${SEED_SECONDS} s: ${TOTAL} sessions (${EXPIRED} of them expired), ${TOTAL_USERS} users"

start_app "$PORT" AUTH_SESSION_CLEANUP_INTERVAL=0
SERVER_PID="${PIDS[-1]}"
start_app "$PORT2" AUTH_SESSION_CLEANUP_INTERVAL=0 DATABASE_URL="$SMALL_URL"
SMALL_PID="${PIDS[-1]}"
# Warm both pools and caches (a new PostgreSQL backend builds its catalog caches and
# plans the query; the large database's pages come into the buffer cache).
wrk -t2 -c32 -d5s -H "Cookie: $SESSION" "$BASE/api/auth/session" >/dev/null
wrk -t2 -c32 -d5s -H "Cookie: $SESSION" "http://127.0.0.1:${PORT2}/api/auth/session" >/dev/null
SMALL=(-H "Cookie: $SESSION" "http://127.0.0.1:${PORT2}/api/auth/session")
LARGE=(-H "Cookie: $SESSION" "$BASE/api/auth/session")
run_pair "GET /api/auth/session, signed in, the small database (interleaved with the next)" "$SMALL_PID" SMALL \
  "GET /api/auth/session, signed in, ${TOTAL} sessions and ${TOTAL_USERS} users" "$SERVER_PID" LARGE
PAIR_SMALL_RPS="$PAIR_A_RPS" PAIR_SMALL_P99="$PAIR_A_P99" PAIR_SMALL_CPU="$PAIR_A_CPU"
LARGE_RPS="$LAST_RPS" LARGE_P99="$LAST_P99" LARGE_CPU="$LAST_CPU"
stop_app "$SMALL_PID"
stop_app "$SERVER_PID"

# The same, while the periodic clean-up (first run 2 s after start) deletes the expired
# sessions in batches; when it ended is read off the table as it empties.
start_app "$PORT" AUTH_SESSION_CLEANUP_INTERVAL=2
SERVER_PID="${PIDS[-1]}"
CLEANUP_FROM="$(date +%s.%N)"
# (An existence probe once a second: counting the backlog would load the database.)
(
  while [ "$(sql "SELECT COUNT(*) FROM (SELECT 1 FROM sessions WHERE expires_at <= ${NOW} LIMIT 1) e")" != 0 ]; do
    sleep 1
  done
  date +%s.%N >"$WORK/cleanup-done"
) &
WATCH=$!
run_case "GET /api/auth/session, signed in, during the clean-up of ${EXPIRED} expired sessions" "$SERVER_PID" \
  -H "Cookie: $SESSION" "$BASE/api/auth/session"
CLEANUP_P99="$LAST_P99"
wait "$WATCH"
CLEANUP_SECONDS="$(awk -v a="$CLEANUP_FROM" -v b="$(cat "$WORK/cleanup-done")" 'BEGIN { printf "%.1f", b - a - 2 }')"
LEFT="$(sql "SELECT COUNT(*) FROM sessions")"
stop_app "$SERVER_PID"


# The report.
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.0f%%", (b / a - 1) * 100 }'; }
# against A B: "7% under" or "3% over" (B against A).
against() { awk -v a="$1" -v b="$2" 'BEGIN { d = (b / a - 1) * 100; printf "%.0f%% %s", d < 0 ? -d : d, d < 0 ? "under" : "over" }'; }
ok() { if awk "BEGIN { exit !($1) }"; then echo "met"; else echo "NOT MET"; fi; }
ARGON2_TOTAL=$((ARGON2_KIB * CORES))
REST_KIB=$((PEAK_KIB - ARGON2_TOTAL))
case "$BACKEND" in
  sqlite) MIN_RPS=12000 MAX_P99=10 ;;
  postgres) MIN_RPS=5500 MAX_P99=15 ;;
esac
{
  echo "Backend: ${BACKEND}. Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr). $(date -u +%Y-%m-%d)."
  echo "wrk: 2 threads, 32 connections, ${DURATION} per case. Pool: Rocket.toml defaults."
  echo
  echo "| case | req/s | p50 | p99 | errors | app CPU / request | database CPU / request | app resident after |"
  echo "|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "CPU per request is the CPU time the app's process (and on PostgreSQL, every PostgreSQL process on the machine) used during the case, divided by the requests served. Resident memory includes the binary's code."
  echo
  echo "- Peak resident memory of one instance through the whole run: $(mib "$PEAK_KIB"): ${CORES} argon2 buffers of $(mib "$ARGON2_KIB") (one per hashing thread, kept for the life of the process) and $(mib "$REST_KIB") for everything else."
  echo "- argon2id ($(mib "$ARGON2_KIB"), t=${ARGON2_T}, p=${ARGON2_P}) alone, just before the sign-in case: ${HASH_MS} ms per hash, ${HASH_CEILING} hashes/s with all ${CORES} cores hashing; sign-in reached ${SIGNIN_RPS}/s, $(against "$HASH_CEILING" "$SIGNIN_RPS") that ceiling."
  echo "- The signed-in check: ${STATEMENTS}."
  echo "- During the sign-in flood: ${FLOOD_SIGNINS} sign-ins/s beside the checks."
  echo "- Two instances against one, measured in turns: $(pct "$ONE_RPS" "$SPLIT_RPS") signed-in checks per second (both instances and the database share the machine's ${CORES} cores)."
  echo "- Large database (seeded in ${SEED_SECONDS} s) against the small one, measured in turns: $(pct "$PAIR_SMALL_RPS" "$LARGE_RPS") req/s, p99 ${LARGE_P99} ms against ${PAIR_SMALL_P99} ms, app CPU ${LARGE_CPU} µs against ${PAIR_SMALL_CPU} µs per check."
  echo "- Clean-up: deleted ${EXPIRED} expired sessions in ${CLEANUP_SECONDS} s (batches of 100, resting 4× each batch's time), ${LEFT} sessions left; p99 during it ${CLEANUP_P99} ms, $(awk -v a="$LARGE_P99" -v b="$CLEANUP_P99" 'BEGIN { printf "%.2f", b / a }')× the figure without it."
  echo
  echo "Goals on 2 cores:"
  echo
  echo "| goal | measured | |"
  echo "|---|---|---|"
  echo "| every request of every case answered 2xx | ${TOTAL_ERRORS} errors | $(ok "$TOTAL_ERRORS == 0") |"
  echo "| signed-in check ≥ ${MIN_RPS} req/s, p99 < ${MAX_P99} ms | ${SMALL_RPS} req/s, ${SMALL_P99} ms | $(ok "$SMALL_RPS >= $MIN_RPS && $SMALL_P99 < $MAX_P99") |"
  echo "| no write inside updateAge | $([ "$BACKEND" = sqlite ] && { [ "$WRITES" = 0 ] && echo "files untouched" || echo "files written"; } || echo "${WRITES} rows updated") | $(ok "$WRITES == 0") |"
  echo "| peak resident < 40 MiB | $(mib "$PEAK_KIB") ($(mib "$REST_KIB") without argon2's buffers) | $(ok "$PEAK_KIB < 40960") |"
  echo "| sign-in within 20% of argon2 alone | ${SIGNIN_RPS}/s against ${HASH_CEILING}/s | $(ok "$SIGNIN_RPS >= 0.8 * $HASH_CEILING") |"
  echo "| check p99 < 50 ms during a sign-in flood | ${FLOOD_P99} ms | $(ok "$FLOOD_P99 < 50") |"
  echo "| 1,000,000 sessions: check within 10% of a small database | $(pct "$PAIR_SMALL_RPS" "$LARGE_RPS") req/s | $(ok "$LARGE_RPS >= 0.9 * $PAIR_SMALL_RPS") |"
  echo "| clean-up keeps p99 < 2× | $(awk -v a="$LARGE_P99" -v b="$CLEANUP_P99" 'BEGIN { printf "%.2f", b / a }')× | $(ok "$CLEANUP_P99 < 2 * $LARGE_P99") |"
} | tee "$OUT"
echo "(written to $OUT)"

if [ "${BENCH_EMAIL:-1}" != 0 ]; then
  cleanup
  trap - EXIT
  bash bench/email.sh "$BACKEND"
fi
