#!/usr/bin/env bash
# `make demo`: the whole platform on this machine in one command. Starts the local broker (if it
# is not running), applies the DDL, runs the processor and the low-load producer in the
# background, and prints the spec's QA queries every few seconds until Ctrl-C, which stops
# everything this script started.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=scripts/tools-env.sh
. "$ROOT/scripts/tools-env.sh"
cd "$ROOT"

NODE=(node --disable-warning=TimeoutNegativeWarning)
LOG_DIR="$ROOT/.data/demo"
mkdir -p "$LOG_DIR"
pids=()
broker_started=false

stop_all() {
  trap - EXIT INT TERM
  echo
  echo "==> demo: stopping"
  # SIGTERM, not SIGINT: background jobs of a script start with SIGINT ignored.
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if $broker_started; then bash scripts/kafka.sh stop; fi
  echo "==> demo: stopped. Logs are in $LOG_DIR"
}
trap stop_all EXIT INT TERM

if ! bash scripts/kafka.sh status >/dev/null 2>&1; then
  bash scripts/kafka.sh start
  broker_started=true
fi
"${NODE[@]}" packages/cli/src/main.ts ddl

echo "==> demo: processor (log: $LOG_DIR/processor.log)"
"${NODE[@]}" packages/processor/src/main.ts >"$LOG_DIR/processor.log" 2>&1 &
pids+=($!)
# Settings as the programs read them (the environment wins over .env).
eval "$(node scripts/env.ts PROCESSOR_HTTP_PORT)"
port=${PROCESSOR_HTTP_PORT:-8124}
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  if ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "processor exited; see $LOG_DIR/processor.log"; tail -n 20 "$LOG_DIR/processor.log"; exit 1
  fi
  sleep 0.5
done

console_url=$("${NODE[@]}" packages/cli/src/main.ts console-url)
echo "==> demo: operators' console (open in a browser on this machine):"
echo "    $console_url"

echo "==> demo: producer at 10 events/s (log: $LOG_DIR/producer.log)"
"${NODE[@]}" packages/producer/src/main.ts --rate 10 >"$LOG_DIR/producer.log" 2>&1 &
pids+=($!)

# Through the CLI, which finds the processor and sends its bearer token.
q() { "${NODE[@]}" packages/cli/src/main.ts chclient -q "$1" || true; }
while true; do
  sleep 5
  clear 2>/dev/null || true
  echo "Real-time ops analytics demo — Ctrl-C stops everything."
  echo "Console: $console_url"
  echo "Query it yourself in another terminal: make chclient"
  echo
  echo "SELECT count() FROM raw_events;"
  q "SELECT count() FROM raw_events"
  echo "SELECT dimension_channel, event_source FROM raw_events LIMIT 5;"
  q "SELECT dimension_channel, event_source FROM raw_events LIMIT 5"
  echo "Unique users per minute (uniqMerge over metrics_minutely FINAL), newest first:"
  q "SELECT toStartOfMinute(time_window) AS minute_window, uniqMerge(unique_users_state) AS unique_users_count FROM metrics_minutely FINAL GROUP BY minute_window ORDER BY minute_window DESC LIMIT 5"
  tail -n 1 "$LOG_DIR/producer.log" | tr '\r' '\n' | tail -n 1
done
