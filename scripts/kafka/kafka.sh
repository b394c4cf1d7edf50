#!/usr/bin/env bash
# Runs a real Apache Kafka 4.x single-node KRaft broker (broker+controller in one
# JVM) on loopback, from the jars that scripts/setup-test-deps.sh puts in
# .cache/kafka/libs. Used to validate the client test programs and as the
# reference for benchmarks.
#
#   scripts/kafka/kafka.sh start  [--port N] [--fresh]   start (no-op if already up)
#   scripts/kafka/kafka.sh stop   [--port N]             stop and wait for exit
#   scripts/kafka/kafka.sh status [--port N]             exit 0 if up, 1 if not
#   scripts/kafka/kafka.sh format [--port N] [--fresh]   write server.properties and format the
#                                                        storage if needed, without starting
#                                                        (so a later `start` times only the broker)
#
# --port (or env KAFKA_PORT): client port, default 19092; the controller listens
#   on port+1 (env KAFKA_CONTROLLER_PORT overrides).
# --fresh: wipe the data directory before starting.
# Env: KAFKA_DATA_DIR (default .cache/kafka-data/<port>), KAFKA_HEAP (default 1g),
#   KAFKA_START_TIMEOUT seconds (default 90), KAFKA_EXTRA_PROPS (extra lines
#   appended to server.properties).
# On success `start` prints `kafka listening on 127.0.0.1:PORT`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LIBS="$ROOT/.cache/kafka/libs"

cmd="${1:-}"
[ $# -gt 0 ] && shift
PORT="${KAFKA_PORT:-19092}"
FRESH=0
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT="$2"; shift 2 ;;
    --port=*) PORT="${1#--port=}"; shift ;;
    --fresh) FRESH=1; shift ;;
    *) echo "kafka.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
CPORT="${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
DATA="${KAFKA_DATA_DIR:-$ROOT/.cache/kafka-data/$PORT}"
PIDFILE="$DATA/kafka.pid"
LOG="$DATA/server.log"
HEAP="${KAFKA_HEAP:-1g}"
TIMEOUT="${KAFKA_START_TIMEOUT:-90}"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running_pid() {
  if [ -f "$PIDFILE" ]; then
    local pid
    pid="$(cat "$PIDFILE" 2>/dev/null || true)"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      echo "$pid"
      return 0
    fi
  fi
  return 1
}

java_cp() {
  if ! compgen -G "$LIBS/kafka_2.13-*.jar" >/dev/null; then
    echo "kafka.sh: no Kafka jars in $LIBS; run scripts/setup-test-deps.sh first" >&2
    exit 1
  fi
  echo "$LIBS/*"
}

write_props() {
  cat >"$DATA/server.properties" <<EOF
# Written by scripts/kafka/kafka.sh
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CPORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CPORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA/logs
metadata.log.dir=$DATA/metadata
num.partitions=1
default.replication.factor=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=3
num.io.threads=8
log.retention.hours=168
log.segment.bytes=1073741824
EOF
  if [ -n "${KAFKA_EXTRA_PROPS:-}" ]; then
    printf '%s\n' "$KAFKA_EXTRA_PROPS" >>"$DATA/server.properties"
  fi
}

format_storage() {
  local cp
  cp="$(java_cp)"
  if [ "$FRESH" = 1 ]; then rm -rf "$DATA"; fi
  mkdir -p "$DATA"
  write_props
  if [ ! -f "$DATA/metadata/meta.properties" ]; then
    local id
    id="$(java -cp "$cp" -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2-client.properties" \
      kafka.tools.StorageTool random-uuid)"
    echo "formatting $DATA (cluster id $id)"
    java -cp "$cp" -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2-client.properties" \
      kafka.tools.StorageTool format -t "$id" -c "$DATA/server.properties" >"$DATA/format.log" 2>&1 || {
      echo "kafka.sh: storage format failed:" >&2
      cat "$DATA/format.log" >&2
      exit 1
    }
  fi
}

start() {
  local pid
  if pid="$(running_pid)"; then
    if port_open "$PORT"; then
      echo "kafka already running (pid $pid)"
      echo "kafka listening on 127.0.0.1:$PORT"
      return 0
    fi
    echo "kafka.sh: pid $pid is alive but port $PORT is closed; stopping it" >&2
    stop
  fi
  if port_open "$PORT"; then
    echo "kafka.sh: port $PORT is already in use by another process" >&2
    exit 1
  fi
  format_storage
  local cp
  cp="$(java_cp)"
  : >"$LOG"
  # setsid + nohup: the broker outlives this script and ignores the caller's SIGHUP.
  setsid nohup java -Xms"$HEAP" -Xmx"$HEAP" -server \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2.properties" \
    -cp "$cp" kafka.Kafka "$DATA/server.properties" >>"$LOG" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PIDFILE"
  local deadline=$((SECONDS + TIMEOUT))
  while true; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "kafka.sh: broker exited during startup; last log lines:" >&2
      tail -n 40 "$LOG" >&2
      rm -f "$PIDFILE"
      exit 1
    fi
    if port_open "$PORT" && grep -q "Kafka Server started" "$LOG"; then
      break
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "kafka.sh: broker not ready after ${TIMEOUT}s; last log lines:" >&2
      tail -n 40 "$LOG" >&2
      stop || true
      exit 1
    fi
    sleep 0.3
  done
  echo "kafka started (pid $pid, data $DATA, log $LOG)"
  echo "kafka listening on 127.0.0.1:$PORT"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PIDFILE"
    echo "kafka not running (port $PORT)"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "kafka.sh: pid $pid did not stop in 30s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$PIDFILE"
  echo "kafka stopped (pid $pid)"
}

status() {
  local pid
  if pid="$(running_pid)" && port_open "$PORT"; then
    echo "kafka running (pid $pid) on 127.0.0.1:$PORT"
    return 0
  fi
  echo "kafka not running (port $PORT)"
  return 1
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  format) format_storage ;;
  *) echo "usage: $0 start|stop|status|format [--port N] [--fresh]" >&2; exit 2 ;;
esac
