// Loaded with `node --import` into a gateway bench/pipeline-flood.ts starts: the process's
// event-loop delay (monitorEventLoopDelay), one JSON line a second appended to
// $SLUICE_LOOP_DELAY_FILE. A stall longer than a second shows as the max of the line written
// after it (the interval's own timer waits behind the stall too).
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.SLUICE_LOOP_DELAY_FILE;
if (file !== undefined && file !== '') {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const t0 = performance.now();
  setInterval(() => {
    appendFileSync(file, JSON.stringify({ atMs: Math.round(performance.now() - t0), maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6 }) + '\n');
    h.reset();
  }, 1000).unref();
}
