#!/usr/bin/env bash
# ElasticMQ, an SQS-compatible server, for the tests and benchmarks.
#   scripts/brokers/elasticmq.sh start   resolve (once), start on a free loopback port; print SQS_ENDPOINT=http://host:port
#   scripts/brokers/elasticmq.sh stop    stop it by PID
#   scripts/brokers/elasticmq.sh status  print SQS_ENDPOINT=... when running, exit 1 otherwise
# Idempotent: start while running prints the running server's address. Queues live in memory;
# ELASTICMQ_PERSIST=1 start keeps queues and messages in its state folder instead (H2, written
# at once), so a server killed and started again with the same command finds them — for tests
# of an outage.
NAME=elasticmq
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TITLE=ElasticMQ
START_SECONDS="${ELASTICMQ_START_SECONDS:-90}"

address() { echo "SQS_ENDPOINT=http://127.0.0.1:$1"; }

launch() {
  local port="$1"
  cat > "$STATE/elasticmq.conf" <<CONF
include classpath("application.conf")
node-address { protocol = http, host = 127.0.0.1, port = $port, context-path = "" }
rest-sqs { enabled = true, bind-port = $port, bind-hostname = "127.0.0.1", sqs-limits = strict }
rest-stats { enabled = false }
CONF
  if [[ "${ELASTICMQ_PERSIST:-}" == 1 ]]; then
    cat >> "$STATE/elasticmq.conf" <<CONF
queues-storage { enabled = true, path = "$STATE/queues.conf" }
messages-storage { enabled = true, uri = "jdbc:h2:$STATE/messages;WRITE_DELAY=0" }
CONF
  fi
  nohup java -Xms64m -Xmx${ELASTICMQ_HEAP:-256m} -Dconfig.file="$STATE/elasticmq.conf" -cp "$LIB/*" org.elasticmq.server.Main \
    >"$STATE/elasticmq.log" 2>&1 </dev/null &
}

broker_main "$@"
