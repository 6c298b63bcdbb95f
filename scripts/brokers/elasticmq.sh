#!/usr/bin/env bash
# ElasticMQ, an SQS-compatible server, for the tests and benchmarks.
#   scripts/brokers/elasticmq.sh start   resolve (once), start on a free loopback port; print SQS_ENDPOINT=http://host:port
#   scripts/brokers/elasticmq.sh stop    stop it by PID
#   scripts/brokers/elasticmq.sh status  print SQS_ENDPOINT=... when running, exit 1 otherwise
# Idempotent: start while running prints the running server's address. Queues live in memory.
NAME=elasticmq
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
VERSION="$(sed -n 's:.*<elasticmq.version>\(.*\)</elasticmq.version>.*:\1:p' "$BROKERS_DIR/elasticmq.pom.xml")"
LIB="$CACHE_ROOT/elasticmq-$VERSION"
STATE="$STATE_ROOT/elasticmq"

start() {
  local pid
  if pid="$(running_pid)"; then echo "SQS_ENDPOINT=http://127.0.0.1:$(cat "$STATE/port")"; return 0; fi
  rm -rf "$STATE"
  resolve_jars "$BROKERS_DIR/elasticmq.pom.xml" "$LIB"
  mkdir -p "$STATE"
  local port
  port="$(free_port)"
  cat > "$STATE/elasticmq.conf" <<CONF
include classpath("application.conf")
node-address { protocol = http, host = 127.0.0.1, port = $port, context-path = "" }
rest-sqs { enabled = true, bind-port = $port, bind-hostname = "127.0.0.1", sqs-limits = strict }
rest-stats { enabled = false }
CONF
  nohup java -Xms64m -Xmx${ELASTICMQ_HEAP:-256m} -Dconfig.file="$STATE/elasticmq.conf" -cp "$LIB/*" org.elasticmq.server.Main \
    >"$STATE/elasticmq.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" > "$STATE/pid"; echo "$port" > "$STATE/port"
  if ! wait_port "$port" "$pid" "$STATE/elasticmq.log" "${ELASTICMQ_START_SECONDS:-90}"; then stop_broker; exit 1; fi
  log "ElasticMQ $VERSION on 127.0.0.1:$port (PID $pid)"
  echo "SQS_ENDPOINT=http://127.0.0.1:$port"
}

case "${1:-}" in
  start) start ;;
  stop) stop_broker ;;
  status) if running_pid >/dev/null; then echo "SQS_ENDPOINT=http://127.0.0.1:$(cat "$STATE/port")"; else exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
