#!/usr/bin/env bash
# Local-mode Kafka from the jars that `make setup` resolves into infra/kafka/target/lib. No Docker.
# KAFKA_NODES=1 (default): one KRaft JVM (broker + controller). KAFKA_NODES=3: three KRaft JVMs,
# each broker + controller (combined mode, a 3-voter quorum), replication factor 3 and
# min.insync.replicas=2 by default for the topics created on it.
#
#   scripts/kafka.sh start|stop|status|logs|wait|clean
#   scripts/kafka.sh start-node|stop-node|kill-node N     (one node of a cluster, N = 1..KAFKA_NODES)
#
# Settings (the environment wins over $ROOT/.env, which wins over defaults):
#   DATA_DIR            .data (relative to repo root) -> $DATA_DIR/kafka/... (node N: kafka/node-N)
#   KAFKA_BROKERS       127.0.0.1:19092: node N listens on the list's N-th entry, or, when the list
#                       is shorter, on the first entry's port + 2(N-1); its controller on port + 1
#   KAFKA_NODES         1 or 3 (unset: 3 if DATA_DIR already holds a cluster, else 1)
#   KAFKA_HEAP          -Xms256m -Xmx1g (one node), -Xms128m -Xmx512m per node of a cluster
#   KAFKA_WAIT_SECONDS  60
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=scripts/tools-env.sh
. "$ROOT/scripts/tools-env.sh"

die() { printf 'kafka: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'kafka: %s\n' "$*"; }

# --- settings ---------------------------------------------------------------
# Read as the programs read them (packages/core/src/dotenv.ts via scripts/env.ts: the
# environment wins over .env), as plain shell variables: nothing else from .env reaches the JVM.
settings=$(node "$ROOT/scripts/env.ts" DATA_DIR KAFKA_BROKERS KAFKA_NODES KAFKA_HEAP KAFKA_WAIT_SECONDS) ||
  die "cannot read the settings (node missing? run make setup)"
eval "$settings"

DATA_DIR=${DATA_DIR:-.data}
KAFKA_BROKERS=${KAFKA_BROKERS:-127.0.0.1:19092}
KAFKA_WAIT_SECONDS=${KAFKA_WAIT_SECONDS:-60}
case $DATA_DIR in /*) ;; *) DATA_DIR="$ROOT/$DATA_DIR" ;; esac
# Unset: the layout already on disk decides, so `make logs` and `make up` after
# `make up KAFKA_NODES=3` keep meaning the cluster.
if [ -z "${KAFKA_NODES:-}" ]; then
  if [ -f "$DATA_DIR/kafka/node-1/data/meta.properties" ]; then KAFKA_NODES=3; else KAFKA_NODES=1; fi
fi
[[ $KAFKA_NODES =~ ^[13]$ ]] || die "KAFKA_NODES must be 1 or 3 (got '$KAFKA_NODES')"
[[ $KAFKA_WAIT_SECONDS =~ ^[0-9]+$ ]] || die "KAFKA_WAIT_SECONDS must be an integer"
if [ "$KAFKA_NODES" = 1 ]; then KAFKA_HEAP=${KAFKA_HEAP:--Xms256m -Xmx1g}; else KAFKA_HEAP=${KAFKA_HEAP:--Xms128m -Xmx512m}; fi

# Node N's host and client port: the list's N-th entry (an optional scheme stripped), or the
# first entry's port + 2(N-1). The controller listens on the client port + 1.
IFS=, read -r -a entries <<<"$KAFKA_BROKERS"
HOSTS=() PORTS=()
for n in $(seq "$KAFKA_NODES"); do
  entry=${entries[$((n - 1))]:-}
  if [ -z "$entry" ]; then entry="${HOSTS[0]}:$((PORTS[0] + 2 * (n - 1)))"; fi
  entry=${entry// /}
  entry=${entry#*://}
  host=${entry%:*} port=${entry##*:}
  [[ $port =~ ^[0-9]+$ && -n $host && $host != "$entry" ]] ||
    die "KAFKA_BROKERS must look like host:port[,host:port...] (got '$KAFKA_BROKERS')"
  HOSTS+=("$host") PORTS+=("$port")
done
VOTERS=""
for n in $(seq "$KAFKA_NODES"); do VOTERS+="${VOTERS:+,}$n@${HOSTS[$((n - 1))]}:$((PORTS[n - 1] + 1))"; done

KAFKA_INFRA="$ROOT/infra/kafka"
LIB="$KAFKA_INFRA/target/lib"
TEMPLATE="$KAFKA_INFRA/server.properties"
LOG4J="$KAFKA_INFRA/log4j2.yaml"
KDIR="$DATA_DIR/kafka"
ADMIN_PROPS="$KDIR/admin.properties"
CLUSTER_ID_FILE="$KDIR/cluster.id"

# One node's paths and ports: the single node keeps the layout it always had ($KDIR/...).
node() {
  NODE=$1
  HOST=${HOSTS[$((NODE - 1))]}
  PORT=${PORTS[$((NODE - 1))]}
  CTRL_PORT=$((PORT + 1))
  if [ "$KAFKA_NODES" = 1 ]; then NDIR=$KDIR; else NDIR="$KDIR/node-$NODE"; fi
  PROPS="$NDIR/server.properties"
  LOGDIRS="$NDIR/data"
  LOG="$NDIR/kafka.log"
  PID_FILE="$NDIR/kafka.pid"
}
node 1

JAVA=java
[ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ] && JAVA="$JAVA_HOME/bin/java"
# Short-lived tool JVMs (format, readiness probe): small heap, C1 only, serial
# GC -> noticeably faster start-up on a 2-core box.
TOOL_JVM=(-Xms32m -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC "-Dlog4j2.configurationFile=$LOG4J")

# --- helpers ----------------------------------------------------------------
read_pid() { if [ -f "$PID_FILE" ]; then tr -dc '0-9' <"$PID_FILE"; fi; }

# Alive = signalable, not a zombie, and (pid reuse guard) really our broker.
is_running() {
  local pid
  pid=$(read_pid)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  if [ -r "/proc/$pid/stat" ]; then
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
  fi
}

# shellcheck disable=SC2016 # $1/$2 are the inner shell's arguments
port_open() { timeout 1 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null; }

require_jars() {
  if ! compgen -G "$LIB/kafka_2.13-*.jar" >/dev/null || ! compgen -G "$LIB/kafka-tools-*.jar" >/dev/null; then
    die "Kafka jars missing in ${LIB#"$ROOT"/} - run make setup"
  fi
  command -v "$JAVA" >/dev/null || die "java not found - run make setup (needs Java >= 17)"
}

# Template -> $PROPS with this node's id, ports and data dir, and for a cluster the replication
# settings. ENVIRON avoids any quoting trouble with paths; regenerated on every start so .env
# changes apply.
render_config() {
  mkdir -p "$LOGDIRS"
  local rf=1 isr=1
  [ "$KAFKA_NODES" = 1 ] || { rf=3 isr=2; }
  K_node="$NODE" K_rf="$rf" K_isr="$isr" \
    K_listeners="PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CTRL_PORT" \
    K_advertised="PLAINTEXT://$HOST:$PORT" \
    K_voters="$VOTERS" \
    K_logdirs="$LOGDIRS" \
    awk '
      BEGIN {
        v["node.id"] = ENVIRON["K_node"]
        v["listeners"] = ENVIRON["K_listeners"]
        v["advertised.listeners"] = ENVIRON["K_advertised"]
        v["controller.quorum.voters"] = ENVIRON["K_voters"]
        v["log.dirs"] = ENVIRON["K_logdirs"]
        split("default.replication.factor offsets.topic.replication.factor transaction.state.log.replication.factor share.coordinator.state.topic.replication.factor", r, " ")
        for (i in r) v[r[i]] = ENVIRON["K_rf"]
        split("min.insync.replicas transaction.state.log.min.isr share.coordinator.state.topic.min.isr", m, " ")
        for (i in m) v[m[i]] = ENVIRON["K_isr"]
        print "# GENERATED by scripts/kafka.sh from infra/kafka/server.properties - edits are overwritten."
      }
      {
        key = $0; sub(/=.*/, "", key)
        if (key in v) { print key "=" v[key]; seen[key] = 1; next }
        print
      }
      END { for (k in v) if (!(k in seen)) print k "=" v[k] }
    ' "$TEMPLATE" >"$PROPS.tmp"
  mv "$PROPS.tmp" "$PROPS"
  # Client settings for the probe: fail fast instead of the 60 s admin default.
  printf '%s\n' 'request.timeout.ms=5000' 'default.api.timeout.ms=8000' >"$ADMIN_PROPS"
}

# KRaft needs a formatted log dir (cluster id + meta.properties) exactly once; the nodes of a
# cluster share one cluster id.
format_storage() {
  [ -f "$LOGDIRS/meta.properties" ] && return 0
  local out cluster_id
  cluster_id=$(cat "$CLUSTER_ID_FILE" 2>/dev/null || true)
  if [ -z "$cluster_id" ]; then
    out=$("$JAVA" "${TOOL_JVM[@]}" -cp "$LIB/*" kafka.tools.StorageTool random-uuid 2>&1) ||
      die "StorageTool random-uuid failed: $out"
    cluster_id=$(printf '%s\n' "$out" | grep -E '^[A-Za-z0-9_-]{22}$' | tail -n1)
    [ -n "$cluster_id" ] || die "could not read a cluster id from: $out"
    printf '%s\n' "$cluster_id" >"$CLUSTER_ID_FILE"
  fi
  say "formatting storage in $LOGDIRS (cluster id $cluster_id)"
  "$JAVA" "${TOOL_JVM[@]}" -cp "$LIB/*" kafka.tools.StorageTool format \
    -t "$cluster_id" -c "$PROPS" >>"$LOG" 2>&1 ||
    { tail -n 20 "$LOG" >&2; die "storage format failed (see $LOG)"; }
}

# A metadata round-trip through Kafka's own admin tool: proves the broker and
# the KRaft controller are both serving, not just that the port is bound.
broker_answers() {
  timeout 20 "$JAVA" "${TOOL_JVM[@]}" -cp "$LIB/*" org.apache.kafka.tools.BrokerApiVersionsCommand \
    --bootstrap-server "$HOST:$PORT" --command-config "$ADMIN_PROPS" >/dev/null 2>&1
}

# --- one node -----------------------------------------------------------------
wait_node() {
  [ -f "$ADMIN_PROPS" ] || { mkdir -p "$NDIR" && render_config; }
  local deadline=$((SECONDS + KAFKA_WAIT_SECONDS)) had_pid=false
  [ -f "$PID_FILE" ] && had_pid=true
  say "waiting up to ${KAFKA_WAIT_SECONDS}s for $HOST:$PORT"
  while :; do
    if $had_pid && ! is_running; then
      rm -f "$PID_FILE"
      say "broker process exited; last log lines:" >&2
      tail -n 30 "$LOG" >&2 2>/dev/null || true
      exit 1
    fi
    # Cheap TCP check first; only then pay for a tool JVM.
    if port_open "$HOST" "$PORT" && broker_answers; then
      say "ready on $HOST:$PORT"
      return 0
    fi
    if ((SECONDS >= deadline)); then
      say "not ready after ${KAFKA_WAIT_SECONDS}s; last log lines:" >&2
      tail -n 30 "$LOG" >&2 2>/dev/null || true
      exit 1
    fi
    sleep 1
  done
}

# Starts the node's JVM without waiting for it (a cluster's nodes need each other to elect a
# controller, so they start together and are waited for afterwards).
launch_node() {
  if is_running; then
    say "node $NODE already running (pid $(read_pid), port $PORT)"
    return 0
  fi
  rm -f "$PID_FILE" # stale
  # Someone else (another broker, Redpanda in Docker) on our ports would make
  # `wait` report success against the wrong server.
  for p in "$PORT" "$CTRL_PORT"; do
    if port_open "$HOST" "$p"; then die "port $HOST:$p already in use by another process"; fi
  done
  mkdir -p "$NDIR"
  render_config
  format_storage

  local heap
  read -r -a heap <<<"$KAFKA_HEAP"
  printf '\n===== %s start: node %s %s:%s (controller %s) =====\n' "$(date '+%F %T')" "$NODE" "$HOST" "$PORT" "$CTRL_PORT" >>"$LOG"
  # setsid + nohup: own session, immune to the caller's SIGHUP/Ctrl-C, so the
  # broker outlives `make`. The inner shell records its own pid and then execs
  # java, so the pid file is the JVM's pid whether or not setsid forked.
  # shellcheck disable=SC2016 # $$/$0/$@ belong to the inner shell
  nohup setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
    "$JAVA" "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$LOG4J" -cp "$LIB/*" kafka.Kafka "$PROPS" \
    >>"$LOG" 2>&1 </dev/null &

  for _ in $(seq 50); do
    [ -s "$PID_FILE" ] && break
    sleep 0.1
  done
  [ -s "$PID_FILE" ] || die "node $NODE did not start (see $LOG)"
  say "node $NODE started (pid $(read_pid), port $PORT, log ${LOG#"$ROOT"/})"
}

# SIGTERM (controlled shutdown: leadership moves first) or SIGKILL (a crash).
stop_node() {
  local signal=${1:-TERM} pid
  if ! is_running; then
    rm -f "$PID_FILE"
    say "node $NODE not running"
    return 0
  fi
  pid=$(read_pid)
  say "node $NODE: SIG$signal to pid $pid"
  kill "-$signal" "$pid" 2>/dev/null || true
  # Controlled shutdown normally takes a few seconds; give it 30.
  for _ in $(seq 60); do
    is_running || break
    sleep 0.5
  done
  if is_running; then
    say "node $NODE still alive after 30s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 1
  fi
  rm -f "$PID_FILE"
  say "node $NODE stopped"
}

# --- commands ---------------------------------------------------------------
each_node() { for n in $(seq "$KAFKA_NODES"); do node "$n" && "$@"; done; }

cmd_start() {
  require_jars
  mkdir -p "$KDIR"
  each_node launch_node
  each_node wait_node
}

cmd_status() {
  local up=0
  for n in $(seq "$KAFKA_NODES"); do
    node "$n"
    if is_running; then
      up=$((up + 1))
      say "node $n running (pid $(read_pid), port $PORT, data ${NDIR#"$ROOT"/})"
    else
      say "node $n stopped (port $PORT, data ${NDIR#"$ROOT"/})"
    fi
  done
  [ "$up" = "$KAFKA_NODES" ] || exit 3
}

cmd_logs() {
  local logs=()
  for n in $(seq "$KAFKA_NODES"); do node "$n" && [ -f "$LOG" ] && logs+=("$LOG"); done
  [ ${#logs[@]} -gt 0 ] || die "no log yet in $KDIR (start the broker first)"
  exec tail -n 50 -F "${logs[@]}"
}

# Every node with a pid file, whatever KAFKA_NODES says now, all at once: a cluster's last node
# cannot finish a controlled shutdown once the other two (a quorum) are gone, so stopping them one
# after another made the last one wait for the SIGKILL.
cmd_stop() {
  local f pid alive pids=() files=()
  for f in "$KDIR/kafka.pid" "$KDIR"/node-*/kafka.pid; do
    [ -f "$f" ] || continue
    PID_FILE=$f
    if is_running; then
      pid=$(read_pid)
      pids+=("$pid") files+=("$f")
      say "SIGTERM to pid $pid (${f#"$KDIR"/})"
      kill -TERM "$pid" 2>/dev/null || true
    else
      rm -f "$f"
    fi
  done
  [ ${#pids[@]} -gt 0 ] || { say "not running"; return 0; }
  for _ in $(seq 60); do
    alive=false
    for f in "${files[@]}"; do PID_FILE=$f && is_running && alive=true; done
    $alive || break
    sleep 0.5
  done
  for f in "${files[@]}"; do
    PID_FILE=$f
    if is_running; then
      say "pid $(read_pid) still alive after 30s, sending SIGKILL"
      kill -KILL "$(read_pid)" 2>/dev/null || true
    fi
    rm -f "$f"
  done
  say "stopped"
}

cmd_clean() {
  cmd_stop
  # Guard the rm: only ever delete a directory literally named .../kafka.
  if [ -z "$DATA_DIR" ] || [ "$DATA_DIR" = / ] || [ "${KDIR##*/}" != kafka ]; then
    die "refusing to delete '$KDIR'"
  fi
  rm -rf "$KDIR"
  say "removed $KDIR"
}

one_node() {
  [[ ${1:-} =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= KAFKA_NODES)) || die "node must be 1..$KAFKA_NODES (got '${1:-}')"
  node "$1"
}

usage() {
  printf 'usage: %s start|stop|status|logs|wait|clean | start-node|stop-node|kill-node N\n' "${0##*/}" >&2
  exit 2
}

case ${1:-} in
  start) [ $# -eq 1 ] || usage; cmd_start ;;
  stop) [ $# -eq 1 ] || usage; cmd_stop ;;
  status) [ $# -eq 1 ] || usage; cmd_status ;;
  logs) [ $# -eq 1 ] || usage; cmd_logs ;;
  wait) [ $# -eq 1 ] || usage; require_jars; each_node wait_node ;;
  clean) [ $# -eq 1 ] || usage; cmd_clean ;;
  start-node) [ $# -eq 2 ] || usage; require_jars; one_node "$2"; launch_node; wait_node ;;
  stop-node) [ $# -eq 2 ] || usage; one_node "$2"; stop_node TERM ;;
  kill-node) [ $# -eq 2 ] || usage; one_node "$2"; stop_node KILL ;;
  *) usage ;;
esac
