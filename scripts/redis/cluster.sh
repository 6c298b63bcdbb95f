#!/usr/bin/env bash
# A Redis Cluster of 3 masters (no replicas) on free loopback ports, for the tests and by hand.
#   scripts/redis/cluster.sh start   start 3 redis-server --cluster-enabled yes, create the cluster,
#                                    wait until every slot is served; print REDIS_CLUSTER=host:port,host:port,host:port
#   scripts/redis/cluster.sh stop    stop the 3 servers by PID and remove their folder
#   scripts/redis/cluster.sh status  print REDIS_CLUSTER=... when running, exit 1 otherwise
# No persistence (--save '' --appendonly no). The state (PIDs, ports, nodes.conf, logs) lives in
# $SLUICE_REDIS_CLUSTER_STATE (default ${TMPDIR:-/tmp}/sluice-redis-cluster): give each concurrent
# user its own. Idempotent: start while running prints the running cluster.
# SLUICE_REDIS_CLUSTER_PORT_BASE=P: the nodes on P, P+1, P+2 instead of free ports (a range of one's own).
set -euo pipefail
STATE="${SLUICE_REDIS_CLUSTER_STATE:-${TMPDIR:-/tmp}/sluice-redis-cluster}"
N=3

log() { echo "[redis-cluster] $*" >&2; }

free_port() {
  node -e "const s=require('node:net').createServer().listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close()})"
}

alive() {
  [[ -f "$STATE/ports" ]] || return 1
  local i
  for ((i = 0; i < N; i++)); do kill -0 "$(cat "$STATE/pid.$i")" 2>/dev/null || return 1; done
}

nodes() {
  local out="" p
  for p in $(cat "$STATE/ports"); do out="${out:+$out,}127.0.0.1:$p"; done
  echo "$out"
}

stop() {
  local i pid
  for ((i = 0; i < N; i++)); do
    [[ -f "$STATE/pid.$i" ]] || continue
    pid="$(cat "$STATE/pid.$i")"
    if kill -0 "$pid" 2>/dev/null; then
      kill -9 "$pid"
      log "stopped node $i (PID $pid)"
    fi
  done
  rm -rf "$STATE"
}

start() {
  command -v redis-server >/dev/null || { log "redis-server is not installed: apt-get install redis-server"; exit 1; }
  if alive; then echo "REDIS_CLUSTER=$(nodes)"; return 0; fi
  stop 2>/dev/null || true
  mkdir -p "$STATE"
  local i port ports=() addrs=()
  for ((i = 0; i < N; i++)); do
    if [[ -n "${SLUICE_REDIS_CLUSTER_PORT_BASE:-}" ]]; then port=$((SLUICE_REDIS_CLUSTER_PORT_BASE + i)); else port="$(free_port)"; fi
    mkdir -p "$STATE/n$i"
    redis-server --port "$port" --bind 127.0.0.1 --cluster-enabled yes --cluster-config-file "$STATE/n$i/nodes.conf" \
      --cluster-node-timeout 2000 --save '' --appendonly no --dir "$STATE/n$i" --daemonize no \
      >"$STATE/n$i/log" 2>&1 </dev/null &
    echo $! > "$STATE/pid.$i"
    ports+=("$port")
    addrs+=("127.0.0.1:$port")
  done
  echo "${ports[*]}" > "$STATE/ports"
  for port in "${ports[@]}"; do
    for ((i = 0; i < 80; i++)); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.25; done
  done
  redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >"$STATE/create.log" 2>&1 || { log "cluster create failed:"; cat "$STATE/create.log" >&2; stop; exit 1; }
  # Every node must agree the cluster is up (all 16384 slots served) before clients come.
  for port in "${ports[@]}"; do
    for ((i = 0; i < 120; i++)); do
      redis-cli -p "$port" cluster info 2>/dev/null | grep -q 'cluster_state:ok' && break
      sleep 0.25
    done
    redis-cli -p "$port" cluster info | grep -q 'cluster_state:ok' || { log "node on $port: cluster not ok"; stop; exit 1; }
  done
  log "3 masters on ${ports[*]} (PIDs $(cat "$STATE"/pid.* | tr '\n' ' '))"
  echo "REDIS_CLUSTER=$(nodes)"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if alive; then echo "REDIS_CLUSTER=$(nodes)"; else exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
