#!/bin/bash
# An idle gateway's CPU: `sluice gateway` with nothing to do (an upstream never asked, no client),
# settled 5 s, then utime+stime from /proc/<pid>/stat over 30 s. Run under the bench lock:
#   flock /work/bench.lock bash bench/idle-cpu.sh
cd "$(dirname "$0")/.."
(exec node bin/sluice.js gateway --upstream http://127.0.0.1:9 --port 0 --admin-port 0 --log-level warn) > /dev/null 2>&1 &
PID=$!
sleep 5
t0=$(awk '{print $14+$15}' /proc/$PID/stat); s0=$(date +%s.%N)
sleep 30
t1=$(awk '{print $14+$15}' /proc/$PID/stat); s1=$(date +%s.%N)
kill $PID; wait $PID 2>/dev/null
TCK=$(getconf CLK_TCK)
echo "ticks $((t1-t0)) over $(echo "$s1-$s0" | bc) s; CPU ms per s: $(echo "scale=2; ($t1-$t0)*1000/$TCK/($s1-$s0)" | bc)"
