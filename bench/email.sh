#!/usr/bin/env bash
# The email benchmark: what a request that sends mail costs with SMTP up and with it
# down, how fast the outbox worker delivers, and that a restart mid-queue loses
# nothing.
#
#   bench/email.sh [sqlite|postgres]      (bench/run.sh runs it after its own cases)
#
# The release binary on a fresh database sends to an SMTP sink on loopback
# (bench/smtp_sink.py, which logs each message's Message-ID). The throttles are lifted
# so that wrk measures the work, not the limits. Cases, BENCH_DURATION each (10s):
# sign-ups (a new address each, argon2 and a verification message) and forgot-password
# requests (for the one account, and for addresses with no account), with SMTP up,
# then with the sink stopped (connections refused). Then the messages that queued up
# while it was down are made due and the sink started: delivered per second. Then
# BENCH_RESTART_MESSAGES (2000) messages are queued, the instance is killed (SIGKILL) a
# moment after delivery starts, a new one started: every message must arrive, and how
# many twice is counted (at-least-once: a message being sent when the instance died is
# sent again after its one-minute lease). Writes bench/results-email-<backend>.md.
set -euo pipefail
cd "$(dirname "$0")/.."

BACKEND="${1:-sqlite}"
DURATION="${BENCH_DURATION:-10s}"
PORT="${BENCH_PORT:-8090}"
SMTP_PORT=$((PORT + 5))
PG_URL="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
BASE="http://127.0.0.1:${PORT}"
OUT="bench/results-email-${BACKEND}.md"
RESTART_MESSAGES="${BENCH_RESTART_MESSAGES:-2000}"
PASSWORD="correct horse battery staple"

# shellcheck source=bench/lib.sh
source bench/lib.sh
install python3 python3

SINK_LOG="$WORK/sink.log"
: >"$SINK_LOG"
SINK_PID=""
start_sink() {
  python3 bench/smtp_sink.py "$SMTP_PORT" "$SINK_LOG" &
  SINK_PID=$!
  for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT") 2>/dev/null && return; sleep 0.1; done
  echo "the SMTP sink did not start"; exit 1
}
stop_sink() { [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null || true; SINK_PID=""; }
trap 'stop_sink; cleanup' EXIT

EMAIL_ENV=(EMAIL_SERVER="smtp://127.0.0.1:${SMTP_PORT}" AUTH_EMAIL_MAX_PER_ADDRESS=100000000
  AUTH_EMAIL_MAX_PER_IP=100000000 AUTH_EMAIL_POLL_INTERVAL_MS=200)
start_sink
echo "== starting the app on ${BASE} (${BACKEND}), mail to the sink on port ${SMTP_PORT}"
start_app "$PORT" "${EMAIL_ENV[@]}"
SERVER_PID="${PIDS[-1]}"

JAR="$WORK/jar"
csrf() { curl -s -b "$JAR" -c "$JAR" "$BASE/api/auth/csrf" | sed 's/.*"csrfToken":"\([^"]*\)".*/\1/'; }
TOKEN="$(csrf)"
curl -s -b "$JAR" -c "$JAR" -o /dev/null --data-urlencode "email=bench@example.com" \
  --data-urlencode "password=$PASSWORD" --data-urlencode "csrfToken=$TOKEN" "$BASE/signup"
cookie() { awk -v n="$1" '$6 == n { print $7 }' "$JAR"; }
# The token is renewed at sign-up: the one the jar holds now.
TOKEN="$(csrf)"
export BENCH_CSRF="$TOKEN" BENCH_CSRF_COOKIE="authjs.csrf-token=$(cookie authjs.csrf-token)"

case_row() { # case_row NAME WRK-ARGS...: one case; its p99 in LAST_P99
  local name="$1"; shift
  wrk_once "${DURATION%s}" "$SERVER_PID" "$@"
  add_row "$name" "$SERVER_PID" "$W_REQ" "$W_SECS" "$W_TICKS" "$W_DB_TICKS" "$(printf %.2f "$W_P50")" "$(printf %.2f "$W_P99")" "$W_ERR"
}
queued() { sql "SELECT COUNT(*) FROM outbox WHERE status = 'queued'"; }

echo "== cases with SMTP up"
case_row "POST /signup, SMTP up" -s bench/signup.lua "$BASE/signup"
SIGNUP_UP="$LAST_P99"
export BENCH_FORGOT_EMAIL="bench@example.com"
case_row "POST /forgot-password, an account's address, SMTP up" -s bench/forgot.lua "$BASE/forgot-password"
FORGOT_UP="$LAST_P99"
export BENCH_FORGOT_EMAIL="random"
case_row "POST /forgot-password, addresses with no account, SMTP up" -s bench/forgot.lua "$BASE/forgot-password"
# What one request costs, known address against unknown, as a prober sees it: one
# connection at a time (no queueing behind other requests), measured in turns.
# shellcheck disable=SC2034
KNOWN_ARGS=(-s bench/forgot.lua "$BASE/forgot-password" -- bench@example.com)
# shellcheck disable=SC2034
UNKNOWN_ARGS=(-s bench/forgot.lua "$BASE/forgot-password" -- random)
WRK_THREADS=1 WRK_CONNECTIONS=1 run_pair "POST /forgot-password, an account's address, one connection" "$SERVER_PID" KNOWN_ARGS \
  "POST /forgot-password, addresses with no account, one connection" "$SERVER_PID" UNKNOWN_ARGS
FORGOT_KNOWN_P50="$PAIR_A_P50" FORGOT_KNOWN_P99="$PAIR_A_P99" FORGOT_UNKNOWN_P50="$LAST_P50" FORGOT_UNKNOWN_P99="$LAST_P99"

echo "== cases with SMTP down (connections refused)"
stop_sink
case_row "POST /signup, SMTP down" -s bench/signup.lua "$BASE/signup"
SIGNUP_DOWN="$LAST_P99"
export BENCH_FORGOT_EMAIL="bench@example.com"
case_row "POST /forgot-password, an account's address, SMTP down" -s bench/forgot.lua "$BASE/forgot-password"
FORGOT_DOWN="$LAST_P99"

# What queued while SMTP was down goes out when it returns.
sleep 1
BACKLOG="$(queued)"
echo "== ${BACKLOG} messages queued while SMTP was down; starting the sink"
SENT_BEFORE="$(wc -l <"$SINK_LOG")"
sql "UPDATE outbox SET next_attempt_at = 0 WHERE status = 'queued'" >/dev/null
DRAIN_FROM="$(date +%s.%N)"
start_sink
while [ "$(queued)" != 0 ]; do sleep 0.2; done
DRAIN_SECONDS="$(awk -v a="$DRAIN_FROM" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')"
DELIVERED=$(( $(wc -l <"$SINK_LOG") - SENT_BEFORE ))
RATE="$(awk -v n="$DELIVERED" -v s="$DRAIN_SECONDS" 'BEGIN { printf "%.0f", n / s }')"

# A restart mid-queue.
echo "== ${RESTART_MESSAGES} messages queued, the instance killed during delivery, a new one started"
stop_sink
NOW="$(date +%s)"
MESSAGE="From: no-reply@127.0.0.1\r\nTo: sink@example.com\r\nSubject: bench\r\n"
case "$BACKEND" in
  sqlite)
    sql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${RESTART_MESSAGES})
      INSERT INTO outbox (id, kind, recipient, message, next_attempt_at, created_at)
      SELECT 'restart-' || i, 'bench', 'sink@example.com',
        replace('${MESSAGE}Message-ID: <restart-' || i || '@bench>\r\n\r\nhello\r\n', '\r\n', char(13, 10)), 0, ${NOW} FROM n" ;;
  postgres)
    sql "INSERT INTO outbox (id, kind, recipient, message, next_attempt_at, created_at)
      SELECT 'restart-' || i, 'bench', 'sink@example.com',
        replace('${MESSAGE}Message-ID: <restart-' || i || '@bench>\r\n\r\nhello\r\n', '\r\n', E'\r\n'), 0, ${NOW}
      FROM generate_series(1, ${RESTART_MESSAGES}) i" ;;
esac
start_sink
sleep 0.5
kill -9 "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
PIDS=()
AT_KILL="$(grep -c '^<restart-' "$SINK_LOG" || true)"
RESTART_FROM="$(date +%s.%N)"
start_app "$PORT" "${EMAIL_ENV[@]}"
SERVER_PID="${PIDS[-1]}"
while [ "$(sql "SELECT COUNT(*) FROM outbox WHERE status = 'queued' AND kind = 'bench'")" != 0 ]; do sleep 0.5; done
RESTART_SECONDS="$(awk -v a="$RESTART_FROM" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')"
RECEIVED="$(grep -c '^<restart-' "$SINK_LOG" || true)"
DISTINCT="$(grep '^<restart-' "$SINK_LOG" | sort -u | wc -l)"
SENT_ROWS="$(sql "SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND kind = 'bench'")"
stop_app "$SERVER_PID"

ok() { if awk "BEGIN { exit !($1) }"; then echo "met"; else echo "NOT MET"; fi; }
{
  echo "Backend: ${BACKEND}. Machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr). $(date -u +%Y-%m-%d)."
  echo "wrk: 2 threads, 32 connections, ${DURATION} per case; throttles lifted; mail to a loopback SMTP sink."
  echo
  echo "| case | req/s | p50 | p99 | errors | app CPU / request | database CPU / request | app resident after |"
  echo "|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${ROWS[@]}"
  echo
  echo "- Queued while SMTP was down: ${BACKLOG} messages; delivered in ${DRAIN_SECONDS} s once it returned: ${RATE} messages/s (8 at a time, on connections kept open; each message waits about 40 ms for the sink's delayed ACK, since the SMTP client writes the end-of-data mark apart from the body)."
  echo "- Restart mid-queue: ${RESTART_MESSAGES} messages queued; ${AT_KILL} delivered when the instance was killed (SIGKILL); the new instance finished in ${RESTART_SECONDS} s (claims of the dead one wait out their one-minute lease). Received ${RECEIVED}, ${DISTINCT} distinct of ${RESTART_MESSAGES}; $((RECEIVED - DISTINCT)) sent twice; ${SENT_ROWS} marked sent."
  echo
  echo "| goal | measured | |"
  echo "|---|---|---|"
  echo "| every request of every case answered 2xx | ${TOTAL_ERRORS} errors | $(ok "$TOTAL_ERRORS == 0") |"
  echo "| sign-up p99 with SMTP down within 20% of SMTP up | ${SIGNUP_DOWN} ms against ${SIGNUP_UP} ms | $(ok "$SIGNUP_DOWN <= 1.2 * $SIGNUP_UP") |"
  echo "| forgot-password p99 with SMTP down within 20% of SMTP up | ${FORGOT_DOWN} ms against ${FORGOT_UP} ms | $(ok "$FORGOT_DOWN <= 1.2 * $FORGOT_UP") |"
  echo "| forgot-password, one request: an unknown address costs what a known one does (p50 and p99 within 20%) | p50 ${FORGOT_UNKNOWN_P50} against ${FORGOT_KNOWN_P50} ms, p99 ${FORGOT_UNKNOWN_P99} against ${FORGOT_KNOWN_P99} ms | $(ok "$FORGOT_UNKNOWN_P50 <= 1.2 * $FORGOT_KNOWN_P50 && $FORGOT_KNOWN_P50 <= 1.2 * $FORGOT_UNKNOWN_P50 && $FORGOT_UNKNOWN_P99 <= 1.2 * $FORGOT_KNOWN_P99 && $FORGOT_KNOWN_P99 <= 1.2 * $FORGOT_UNKNOWN_P99") |"
  echo "| nothing lost across a restart mid-queue | ${DISTINCT} of ${RESTART_MESSAGES} delivered | $(ok "$DISTINCT == $RESTART_MESSAGES") |"
} | tee "$OUT"
echo "(written to $OUT)"
