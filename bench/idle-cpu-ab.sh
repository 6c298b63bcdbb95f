#!/bin/bash
# Idle CPU, A/B in one window: two idle `sluice gateway`s — this checkout's and a baseline tree's
# (built: npm run build:unchecked) — side by side over the same seconds, so a busy host's noise
# falls on both alike (bench/idle-cpu.sh runs one at a time). Each: settled 5 s, then
# utime+stime from /proc/<pid>/stat over SECONDS (default 60). Run under the bench lock:
#   flock /work/bench.lock bash bench/idle-cpu-ab.sh /tmp/base [SECONDS]
set -u
BASE=${1:?usage: idle-cpu-ab.sh BASELINE_DIR [SECONDS]}
SECS=${2:-60}
cd "$(dirname "$0")/.."
start() { (cd "$1" && exec node bin/sluice.js gateway --upstream http://127.0.0.1:9 --port 0 --admin-port 0 --log-level warn) > /dev/null 2>&1 & echo $!; }
A=$(start "$BASE")
B=$(start "$PWD")
sleep 5
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
a0=$(ticks "$A"); b0=$(ticks "$B"); s0=$(date +%s.%N)
sleep "$SECS"
a1=$(ticks "$A"); b1=$(ticks "$B"); s1=$(date +%s.%N)
# Wake-ups of each main thread over 10 s (epoll waits returned), when strace is there: a count,
# not a time, so the host's load does not blur it.
wakes() { local f; f=$(mktemp); timeout -s INT 10 strace -e trace=epoll_pwait,epoll_wait -p "$1" -o "$f" 2>/dev/null; grep -c epoll "$f"; rm -f "$f"; }
if command -v strace > /dev/null; then
  wakes "$A" > /tmp/idle-ab-wakes-a.$$ & wakes "$B" > /tmp/idle-ab-wakes-b.$$ & wait %1 %2 2>/dev/null
  WA=$(cat /tmp/idle-ab-wakes-a.$$); WB=$(cat /tmp/idle-ab-wakes-b.$$); rm -f /tmp/idle-ab-wakes-[ab].$$
fi
kill "$A" "$B"; wait "$A" "$B" 2>/dev/null
TCK=$(getconf CLK_TCK)
el=$(echo "$s1-$s0" | bc)
echo "load $(cut -d' ' -f1-3 /proc/loadavg) over $el s"
echo "baseline ticks $((a1-a0)); CPU ms per s: $(echo "scale=2; ($a1-$a0)*1000/$TCK/$el" | bc)"
echo "this     ticks $((b1-b0)); CPU ms per s: $(echo "scale=2; ($b1-$b0)*1000/$TCK/$el" | bc)"
[ $((a1-a0)) -gt 0 ] && echo "ratio this/baseline: $(echo "scale=3; ($b1-$b0)/($a1-$a0)" | bc)"
[ -n "${WA:-}" ] && echo "epoll waits of the main thread over 10 s: baseline $WA, this $WB"
