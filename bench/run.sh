#!/usr/bin/env bash
# The benchmark: the release binary on a fresh database, driven over loopback by wrk.
#
#   bench/run.sh [sqlite|postgres]
#
# Prints one table (req/s, p50 and p99 latency, errors, the server's CPU time per
# request, its peak resident memory) and writes it to bench/results-<backend>.md.
# Settings: BENCH_DURATION (default 10s), BENCH_PORT (8090), BENCH_PG_URL (a
# PostgreSQL server where a scratch database is created and dropped).
set -euo pipefail
cd "$(dirname "$0")/.."

BACKEND="${1:-sqlite}"
DURATION="${BENCH_DURATION:-10s}"
PORT="${BENCH_PORT:-8090}"
PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
BASE="http://127.0.0.1:${PORT}"
OUT="bench/results-${BACKEND}.md"
PASSWORD="correct horse battery staple"

if ! command -v wrk >/dev/null 2>&1; then
  echo "== installing wrk"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null
fi

echo "== building the release binary"
cargo build --release --locked --quiet
cargo build --release --locked --quiet --example argon2-time

WORK="$(mktemp -d)"
SERVER_PID=""
PG_DB=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  [ -n "$PG_DB" ] && psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

case "$BACKEND" in
  sqlite) DATABASE_URL="sqlite://${WORK}/bench.db" ;;
  postgres)
    PG_DB="bench_$$"
    psql -q "$PG_URL" -c "CREATE DATABASE $PG_DB" >/dev/null
    DATABASE_URL="${PG_URL%/*}/${PG_DB}"
    ;;
  *) echo "usage: bench/run.sh [sqlite|postgres]" >&2; exit 2 ;;
esac

echo "== starting the app on ${BASE} (${BACKEND})"
DATABASE_URL="$DATABASE_URL" AUTH_SECRET="bench-secret-0123456789-abcdefghijklmnop" \
  AUTH_URL="$BASE" ROCKET_PORT="$PORT" ROCKET_ADDRESS=127.0.0.1 \
  ./target/release/rocket-auth >"$WORK/app.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "$BASE/healthz" >/dev/null || { echo "the app did not start:"; cat "$WORK/app.log"; exit 1; }

# One user, signed in: the session cookie, and a CSRF token and cookie for sign-ins.
JAR="$WORK/jar"
csrf() { curl -s -b "$JAR" -c "$JAR" "$BASE/api/auth/csrf" | sed 's/.*"csrfToken":"\([^"]*\)".*/\1/'; }
TOKEN="$(csrf)"
curl -s -b "$JAR" -c "$JAR" -o /dev/null --data-urlencode "email=bench@example.com" \
  --data-urlencode "password=$PASSWORD" --data-urlencode "csrfToken=$TOKEN" "$BASE/signup"
cookie() { awk -v n="$1" '$6 == n { print $7 }' "$JAR"; }
SESSION="authjs.session-token=$(cookie authjs.session-token)"
[ "$SESSION" != "authjs.session-token=" ] || { echo "sign-up failed"; exit 1; }
export BENCH_EMAIL="bench@example.com" BENCH_PASSWORD="$PASSWORD" BENCH_CSRF="$TOKEN"
export BENCH_CSRF_COOKIE="authjs.csrf-token=$(cookie authjs.csrf-token)"

TICKS="$(getconf CLK_TCK)"
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }
rss() { awk '/VmRSS/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$SERVER_PID/status"; }
pg_commits() {
  [ -n "$PG_DB" ] && psql -qtA "$PG_URL" -c "SELECT xact_commit FROM pg_stat_database WHERE datname = '$PG_DB'" || echo 0
}

ROWS=()
# run_case NAME WRK-ARGS...: one row of the table.
run_case() {
  local name="$1"; shift
  local before after out
  before="$(cpu_ticks)"
  out="$(wrk -t2 -c32 -d"$DURATION" --latency "$@")"
  after="$(cpu_ticks)"
  LAST_REQUESTS="$(echo "$out" | awk '/requests in/ { print $1 }')"
  ROWS+=("$(summarise "$name" "$out" "$before" "$after") $(rss) |")
  echo "${ROWS[-1]}"
}
# summarise NAME WRK-OUTPUT CPU-BEFORE CPU-AFTER
summarise() {
  local requests rps p50 p99 non2xx sockerr cpu
  requests="$(echo "$2" | awk '/requests in/ { print $1 }')"
  rps="$(echo "$2" | awk '/Requests\/sec/ { printf "%.0f", $2 }')"
  p50="$(echo "$2" | awk '$1 == "50%" { print $2 }')"
  p99="$(echo "$2" | awk '$1 == "99%" { print $2 }')"
  non2xx="$(echo "$2" | awk '/Non-2xx/ { print $NF }')"
  sockerr="$(echo "$2" | awk '/Socket errors/ { gsub(",", ""); print $4 + $6 + $8 + $10 }')"
  cpu="$(awk -v a="$3" -v b="$4" -v t="$TICKS" -v n="$requests" 'BEGIN { printf "%.0f", (b - a) / t * 1e6 / n }')"
  echo "| $1 | $rps | $p50 | $p99 | $(( ${non2xx:-0} + ${sockerr:-0} )) | ${cpu} µs |"
}

echo "== cases (wrk: 2 threads, 32 connections, ${DURATION} each)"
commits_before="$(pg_commits)"
run_case "GET /api/auth/session, signed in" -H "Cookie: $SESSION" "$BASE/api/auth/session"
commits_after="$(pg_commits)"
signed_in_requests="$LAST_REQUESTS"
run_case "GET /api/auth/session, signed out" "$BASE/api/auth/session"
run_case "GET /sessions, signed in (template page)" -H "Cookie: $SESSION" "$BASE/sessions"
run_case "POST /api/auth/callback/credentials (argon2)" -s bench/signin.lua "$BASE/api/auth/callback/credentials"

# The signed-in check while sign-ins flood the server.
wrk -t1 -c16 -d"$(( ${DURATION%s} + 2 ))s" -s bench/signin.lua "$BASE/api/auth/callback/credentials" >/dev/null &
FLOOD=$!
sleep 1
run_case "GET /api/auth/session, signed in, during a sign-in flood" -H "Cookie: $SESSION" "$BASE/api/auth/session"
wait "$FLOOD" || true

PEAK="$(awk '/VmHWM/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$SERVER_PID/status")"
read -r HASH_MS CORES HASH_CEILING <<<"$(./target/release/examples/argon2-time)"

{
  echo "Backend: ${BACKEND}. Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr). $(date -u +%Y-%m-%d)."
  echo
  echo "| case | req/s | p50 | p99 | errors | server CPU / request | resident after |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "Peak resident memory of the server through the whole run: ${PEAK}."
  echo "argon2id (19 MiB, t=2, p=1) alone: ${HASH_MS} ms per hash, so at most ${HASH_CEILING} hashes/s on ${CORES} cores."
  if [ -n "$PG_DB" ]; then
    per="$(awk -v a="$commits_before" -v b="$commits_after" -v r="$signed_in_requests" 'BEGIN { if (r > 0) printf "%.3f", (b - a) / r }')"
    echo "Statements per signed-in check: ${per} (committed PostgreSQL transactions / requests; each statement is its own transaction; PostgreSQL flushes these counters lazily, so this reads a little low)."
  fi
} | tee "$OUT"
echo "(written to $OUT)"
