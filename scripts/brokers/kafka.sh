#!/usr/bin/env bash
# Apache Kafka, one node in KRaft mode (broker + controller), for the tests and benchmarks.
#   scripts/brokers/kafka.sh start   resolve (once), format, start on free loopback ports; print KAFKA_BROKERS=host:port
#                                    KAFKA_SASL_BROKERS=host:port (a second listener: SASL PLAIN, user sluice, password sluice-secret)
#   scripts/brokers/kafka.sh stop    stop it by PID and remove its data
#   scripts/brokers/kafka.sh status  print KAFKA_BROKERS=... when running, exit 1 otherwise
# KAFKA_AUTHORIZER=1 start: with the standard authorizer, where nothing changes until an ACL is
# made (no ACL on a resource allows all; PLAINTEXT clients are super users) — for tests of ACLs.
# Idempotent: start while running prints the running broker's address. Data lives in a temp folder.
NAME=kafka
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TITLE=Kafka
START_SECONDS="${KAFKA_START_SECONDS:-120}"
DETAIL=", data $STATE/data"

address() { echo "KAFKA_BROKERS=127.0.0.1:$1 KAFKA_SASL_BROKERS=127.0.0.1:$(cat "$STATE/sasl-port")"; }

launch() {
  local port="$1" cport sport
  mkdir -p "$STATE/data"
  cport="$(free_port)"
  while [[ "$cport" == "$port" ]]; do cport="$(free_port)"; done
  sport="$(free_port)"
  while [[ "$sport" == "$port" || "$sport" == "$cport" ]]; do sport="$(free_port)"; done
  echo "$sport" > "$STATE/sasl-port"
  cat > "$STATE/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,SASL_PLAINTEXT://127.0.0.1:$sport,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port,SASL_PLAINTEXT://127.0.0.1:$sport
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
listener.name.sasl_plaintext.sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_sluice="sluice-secret";
log.dirs=$STATE/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
PROPS
  if [[ "${KAFKA_AUTHORIZER:-}" == 1 ]]; then
    cat >> "$STATE/server.properties" <<'PROPS'
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:ANONYMOUS
allow.everyone.if.no.acl.found=true
PROPS
  fi
  cat > "$STATE/log4j2.properties" <<'PROPS'
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = out
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = %d{HH:mm:ss.SSS} %-5p %c{1} - %m%n
PROPS
  local cp="$LIB/*" uuid
  uuid="$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)"
  java -Dlog4j2.configurationFile="$STATE/log4j2.properties" -cp "$cp" kafka.tools.StorageTool format -t "$uuid" -c "$STATE/server.properties" >"$STATE/format.log" 2>&1 \
    || { log "storage format failed:"; cat "$STATE/format.log" >&2; exit 1; }
  nohup java -Xms128m -Xmx${KAFKA_HEAP:-512m} -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$STATE/log4j2.properties" -cp "$cp" kafka.Kafka "$STATE/server.properties" \
    >"$STATE/kafka.log" 2>&1 </dev/null &
}

broker_main "$@"
