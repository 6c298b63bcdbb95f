// The real event-loop delay signal, on the real clock: a 60 ms busy loop must be seen within a
// short window. Bounded and tolerant of a loaded machine: it retries the block a few times
// (Node drops the first timer period after each histogram reset, so one block in ~10 can fall
// into that gap) and only asserts that a large delay was seen, never that an idle loop is calm.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { eventLoopDelaySignal, PressureMonitor } from '../../src/pressure/index.js';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin: the event loop is blocked
  }
}

describe('event-loop delay signal on the real loop', () => {
  it('detects a 60 ms busy loop within a couple of samples', async () => {
    const signal = eventLoopDelaySignal({ slowAt: 25, rejectAt: 10_000, hysteresis: 5, percentile: 100, resolutionMs: 5 });
    const monitor = new PressureMonitor({ signals: [signal], intervalMs: 50 }).start();
    let seen = 0;
    const levels: string[] = [];
    monitor.on('level', (e) => levels.push(e.to));
    monitor.on('sample', (e) => {
      seen = Math.max(seen, e.snapshot.signals[0]!.value);
    });
    try {
      for (let attempt = 0; attempt < 8 && seen < 40; attempt++) {
        await sleep(20);
        busy(60);
        await sleep(120); // two sampling periods for the reading to land
      }
    } finally {
      monitor.stop();
    }
    expect(seen).toBeGreaterThanOrEqual(40);
    expect(levels).toContain('slow');
  });
});
