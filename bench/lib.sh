#!/usr/bin/env bash
# What bench/run.sh and bench/email.sh share: the tools, a fresh database of BACKEND,
# the release binary started and stopped, and one wrk run read into numbers. Sourced,
# with BACKEND, DURATION, PORT, PG_URL and BASE set.

install() { # install COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 && return
  echo "== installing $2"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null 2>&1; then
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null
  fi
}
case "$BACKEND" in
  sqlite) install sqlite3 sqlite3 ;;
  postgres) install psql postgresql-client ;;
  *) echo "usage: bench/run.sh [sqlite|postgres]" >&2; exit 2 ;;
esac
install wrk wrk
install curl curl

echo "== building the release binary"
cargo build --release --locked --quiet
cargo build --release --locked --quiet --example argon2-time

WORK="$(mktemp -d)"
PIDS=()
PG_DB=""
cleanup() {
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  if [ -n "$PG_DB" ]; then
    psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
    psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS ${PG_DB}_small WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

case "$BACKEND" in
  sqlite)
    DB_FILE="${WORK}/bench.db"
    DATABASE_URL="sqlite://${DB_FILE}"
    sql() { sqlite3 -batch -cmd ".timeout 10000" "$DB_FILE" "$@"; }
    ;;
  postgres)
    # The local cluster, started if it is down (as .ci/run does).
    if ! psql -q "$PG_URL" -c "SELECT 1" >/dev/null 2>&1 && ls /etc/postgresql >/dev/null 2>&1; then
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
      for _ in $(seq 1 30); do psql -q "$PG_URL" -c "SELECT 1" >/dev/null 2>&1 && break; sleep 1; done
    fi
    PG_DB="bench_$$"
    psql -q "$PG_URL" -c "CREATE DATABASE $PG_DB" >/dev/null
    DATABASE_URL="${PG_URL%/*}/${PG_DB}"
    sql() { psql -qtA -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "$@"; }
    ;;
esac

# start_app PORT [VAR=VALUE...]: starts an instance and waits until it answers; its
# pid is the last of PIDS.
start_app() {
  local port="$1"; shift
  # The sign-in limit is lifted unless set: 32 connections signing one account in at
  # once count as 32 attempts in flight, which the throttle refuses past its limit.
  env DATABASE_URL="$DATABASE_URL" AUTH_SECRET="bench-secret-0123456789-abcdefghijklmnop" \
    AUTH_SIGNIN_MAX_FAILURES="${AUTH_SIGNIN_MAX_FAILURES:-1000000}" \
    AUTH_URL="$BASE" ROCKET_PORT="$port" ROCKET_ADDRESS=127.0.0.1 "$@" \
    ./target/release/rocket-auth >>"$WORK/app-$port.log" 2>&1 &
  PIDS+=("$!")
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.1; done
  echo "the app did not start:"; cat "$WORK/app-$port.log"; exit 1
}
PEAK_KIB=0
# stop_app PID: stops an instance, keeping the highest peak resident memory in PEAK_KIB.
stop_app() {
  local hwm pid rest=()
  hwm="$(awk '/VmHWM/ { print $2 }' "/proc/$1/status")"
  [ "$hwm" -gt "$PEAK_KIB" ] && PEAK_KIB="$hwm"
  kill "$1"; wait "$1" 2>/dev/null || true
  for pid in "${PIDS[@]}"; do [ "$pid" = "$1" ] || rest+=("$pid"); done
  PIDS=("${rest[@]+"${rest[@]}"}")
}


TICKS="$(getconf CLK_TCK)"
cpu_ticks() { local p; for p in "$@"; do awk '{ print $14 + $15 }' "/proc/$p/stat"; done | awk '{ s += $1 } END { print s }'; }
# db_ticks: CPU ticks of every PostgreSQL server process (its share of the machine); 0
# on SQLite, which runs inside the app.
db_ticks() {
  if [ "$BACKEND" = postgres ]; then
    for p in $(pgrep -x postgres); do awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null; done | awk '{ s += $1 } END { print s + 0 }'
  else
    echo 0
  fi
}
rss() { local p; for p in "$@"; do awk '/VmRSS/ { print $2 }' "/proc/$p/status"; done | awk '{ s = s sep sprintf("%.1f", $1 / 1024); sep = " + " } END { print s " MiB" }'; }

# pg_counters: PostgreSQL's own counters for the database: committed transactions,
# index scans of sessions, scans of users, rows of sessions updated. A backend publishes
# its counters once it has been idle for 10 s; the wait makes the reading exact.
pg_counters() {
  sleep 11
  psql -qtA -F ' ' "$DATABASE_URL" -c "SELECT d.xact_commit, s.idx_scan, u.idx_scan + u.seq_scan, s.n_tup_upd
    FROM pg_stat_database d, pg_stat_user_tables s, pg_stat_user_tables u
    WHERE d.datname = current_database() AND s.relname = 'sessions' AND u.relname = 'users'"
}
# sqlite_files: size and modification time of the database file and its WAL.
sqlite_files() { stat -c '%s %.9Y' "$DB_FILE" "$DB_FILE-wal" | tr '\n' ' '; }

ROWS=()
# Requests answered other than 2xx, or failed, over every row: a broken case (a stale
# CSRF token, a refused sign-in) shows here rather than as a fast, meaningless figure.
TOTAL_ERRORS=0
# wrk_once SECONDS "PIDS" WRK-ARGS...: one wrk run (WRK_THREADS threads, WRK_CONNECTIONS
# connections: 2 and 32 unless set); leaves its requests, seconds, the CPU ticks of the
# instances in PIDS, p50 and p99 (ms) and errors in W_*.
wrk_once() {
  local secs="$1" pids="$2"; shift 2
  local before after db_before db_after out
  # shellcheck disable=SC2086
  before="$(cpu_ticks $pids)" db_before="$(db_ticks)"
  out="$(wrk -t"${WRK_THREADS:-2}" -c"${WRK_CONNECTIONS:-32}" -d"${secs}s" --latency "$@")"
  # shellcheck disable=SC2086
  after="$(cpu_ticks $pids)" db_after="$(db_ticks)"
  W_REQ="$(echo "$out" | awk '/requests in/ { print $1 }')"
  W_SECS="$(echo "$out" | awk '/requests in/ { sub(/s,?$/, "", $4); print $4 }')"
  W_TICKS=$((after - before)) W_DB_TICKS=$((db_after - db_before))
  W_P50="$(ms "$(echo "$out" | awk '$1 == "50%" { print $2 }')")"
  W_P99="$(ms "$(echo "$out" | awk '$1 == "99%" { print $2 }')")"
  W_ERR="$(echo "$out" | awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(",", ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }')"
}
# add_row NAME "PIDS" REQUESTS SECONDS TICKS DB-TICKS P50 P99 ERRORS: a row of the
# table, and its figures in LAST_*.
add_row() {
  LAST_REQUESTS="$3"
  LAST_RPS="$(awk -v n="$3" -v s="$4" 'BEGIN { printf "%.0f", n / s }')"
  LAST_CPU="$(awk -v t="$5" -v hz="$TICKS" -v n="$3" 'BEGIN { printf "%.0f", t / hz * 1e6 / n }')"
  local db="in the app"
  [ "$BACKEND" = postgres ] && db="$(awk -v t="$6" -v hz="$TICKS" -v n="$3" 'BEGIN { printf "%.0f µs", t / hz * 1e6 / n }')"
  LAST_P50="$7" LAST_P99="$8"
  TOTAL_ERRORS=$((TOTAL_ERRORS + $9))
  # shellcheck disable=SC2086
  ROWS+=("| $1 | $LAST_RPS | $7 ms | $8 ms | $9 | ${LAST_CPU} µs | $db | $(rss $2) |")
  echo "${ROWS[-1]}"
}
# run_case NAME "PIDS" WRK-ARGS...: one row of the table from one run of DURATION; the
# server's CPU and memory are those of the instances in PIDS.
run_case() {
  local name="$1" pids="$2"; shift 2
  wrk_once "${DURATION%s}" "$pids" "$@"
  add_row "$name" "$pids" "$W_REQ" "$W_SECS" "$W_TICKS" "$W_DB_TICKS" "$(printf %.2f "$W_P50")" "$(printf %.2f "$W_P99")" "$W_ERR"
}
# run_pair NAME_A "PIDS_A" ARGS_A NAME_B "PIDS_B" ARGS_B: two rows compared fairly: A, B,
# A, B, each for half of DURATION, so that both see the same machine (a virtual
# machine's speed drifts by a fifth over minutes). ARGS_* name arrays of wrk arguments.
# Leaves A's figures in PAIR_A_RPS, PAIR_A_P50, PAIR_A_P99, PAIR_A_CPU and B's in LAST_*.
run_pair() {
  local -n args_a="$3" args_b="$6"
  local half=$(( ${DURATION%s} / 2 )) round
  local -A req=() secs=() ticks=() db=() p50=() p99=() err=()
  for round in 1 2; do
    for side in a b; do
      if [ "$side" = a ]; then wrk_once "$half" "$2" "${args_a[@]}"; else wrk_once "$half" "$5" "${args_b[@]}"; fi
      req[$side]=$(( ${req[$side]:-0} + W_REQ ))
      secs[$side]="$(awk -v a="${secs[$side]:-0}" -v b="$W_SECS" 'BEGIN { print a + b }')"
      ticks[$side]=$(( ${ticks[$side]:-0} + W_TICKS ))
      db[$side]=$(( ${db[$side]:-0} + W_DB_TICKS ))
      p50[$side]="$(awk -v a="${p50[$side]:-0}" -v b="$W_P50" 'BEGIN { print a + b / 2 }')"
      p99[$side]="$(awk -v a="${p99[$side]:-0}" -v b="$W_P99" 'BEGIN { print a + b / 2 }')"
      err[$side]=$(( ${err[$side]:-0} + W_ERR ))
    done
  done
  add_row "$1" "$2" "${req[a]}" "${secs[a]}" "${ticks[a]}" "${db[a]}" "$(printf %.2f "${p50[a]}")" "$(printf %.2f "${p99[a]}")" "${err[a]}"
  PAIR_A_RPS="$LAST_RPS" PAIR_A_P50="$LAST_P50" PAIR_A_P99="$LAST_P99" PAIR_A_CPU="$LAST_CPU"
  add_row "$4" "$5" "${req[b]}" "${secs[b]}" "${ticks[b]}" "${db[b]}" "$(printf %.2f "${p50[b]}")" "$(printf %.2f "${p99[b]}")" "${err[b]}"
}
# ms DURATION: wrk's latency (850.00us, 3.91ms, 1.02s) in milliseconds.
ms() { echo "$1" | awk '/us$/ { print $1 / 1000; next } /ms$/ { print $1 + 0; next } /s$/ { print $1 * 1000 }'; }
