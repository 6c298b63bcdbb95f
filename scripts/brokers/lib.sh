# Shared by the broker scripts: a JVM broker's life cycle (start | stop | status) around its own
# configuration. Resolves its pom's runtime jars into a cache folder, starts it on a free
# loopback port, waits for the port, and keeps its state (PID, port, data) in one folder.
#
# A broker script sets NAME (its pom is $NAME.pom.xml, whose <$NAME.version> is the version)
# and sources this file; then it sets TITLE (for the log), START_SECONDS, optionally DETAIL
# (appended to the "started" log line), defines
#   address PORT   print what a client exports (KAFKA_BROKERS=127.0.0.1:PORT)
#   launch PORT    write its configuration into $STATE and start the server in the background
#                  (the last background job is the server; its output goes to $STATE/$NAME.log)
# and ends with `broker_main "$@"`.
set -euo pipefail

BROKERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${SLUICE_BROKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice/brokers}"
# One state folder per checkout: two clones on one host (a CI run beside a working tree) must
# not find, reuse and then stop each other's broker.
CHECKOUT_ID="$(printf '%s' "$BROKERS_DIR" | cksum | cut -d' ' -f1)"
STATE_ROOT="${SLUICE_BROKER_STATE:-${TMPDIR:-/tmp}/sluice-brokers-$CHECKOUT_ID}"
VERSION="$(sed -n "s:.*<$NAME.version>\(.*\)</$NAME.version>.*:\1:p" "$BROKERS_DIR/$NAME.pom.xml")"
LIB="$CACHE_ROOT/$NAME-$VERSION"
STATE="$STATE_ROOT/$NAME"
DETAIL=""

log() { echo "[$NAME] $*" >&2; }

# resolve_jars POM DIR: copy the pom's runtime dependencies into DIR once (a marker says it is complete).
resolve_jars() {
  local pom="$1" dir="$2"
  if [[ -f "$dir/.complete" ]]; then return 0; fi
  command -v mvn >/dev/null || { log "Maven (mvn) is not installed: apt-get install maven"; exit 1; }
  command -v java >/dev/null || { log "Java is not installed: apt-get install openjdk-17-jre-headless"; exit 1; }
  log "resolving $(basename "$pom") from Maven Central into $dir"
  rm -rf "$dir.partial"
  mvn -q -B -Dstyle.color=never -f "$pom" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$dir.partial" >&2
  rm -rf "$dir"
  mv "$dir.partial" "$dir"
  touch "$dir/.complete"
}

free_port() {
  node -e "const s=require('node:net').createServer().listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})"
}

# wait_port PORT PID LOGFILE SECONDS: until PORT accepts on loopback; fail if PID dies or time runs out.
wait_port() {
  local port="$1" pid="$2" logfile="$3" seconds="$4" i
  for ((i = 0; i < seconds * 4; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "exited during start; last lines of $logfile:"; tail -n 30 "$logfile" >&2; return 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.25
  done
  log "not listening on 127.0.0.1:$port after ${seconds}s; last lines of $logfile:"; tail -n 30 "$logfile" >&2
  return 1
}

running_pid() {
  local f="$STATE/pid"
  [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"
}

stop_broker() {
  local pid
  if pid="$(running_pid)"; then
    kill "$pid"
    for _ in $(seq 1 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then log "PID $pid still alive after 20 s: SIGKILL"; kill -9 "$pid"; fi
    log "stopped (PID $pid)"
  else
    log "not running"
  fi
  rm -rf "$STATE"
}

# Idempotent: start while running prints the running server's address.
start_broker() {
  local pid port
  if pid="$(running_pid)"; then address "$(cat "$STATE/port")"; return 0; fi
  rm -rf "$STATE"
  resolve_jars "$BROKERS_DIR/$NAME.pom.xml" "$LIB"
  mkdir -p "$STATE"
  port="$(free_port)"
  launch "$port"
  pid=$!
  echo "$pid" > "$STATE/pid"; echo "$port" > "$STATE/port"
  if ! wait_port "$port" "$pid" "$STATE/$NAME.log" "$START_SECONDS"; then stop_broker; exit 1; fi
  log "$TITLE $VERSION on 127.0.0.1:$port (PID $pid$DETAIL)"
  address "$port"
}

broker_main() {
  case "${1:-}" in
    start) start_broker ;;
    stop) stop_broker ;;
    status) if running_pid >/dev/null; then address "$(cat "$STATE/port")"; else exit 1; fi ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
  esac
}
