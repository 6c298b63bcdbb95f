// An idle process is not woken to sample what cannot have changed: the signal-latency sampler
// (metrics) stops after a sample with nothing open and no gate event since the one before, and
// the next gate event starts it again — a burst is still timed from its first sample. Virtual
// timers: counts of readings, no wall-clock figure.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import type { Admission } from '../../src/core/index.js';
import { metricsConfig, recordEvents } from '../../src/metrics/index.js';
import type { EventRecording } from '../../src/metrics/index.js';

const recordings: EventRecording[] = [];
afterEach(() => {
  recordings.splice(0).forEach((r) => r.stop());
  vi.useRealTimers();
});

describe('signal-latency sampling when idle', () => {
  it('reads the gates a few times in 10 idle seconds, not every 100 ms; the first event starts it again and a burst is timed', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'performance', 'Date'] });
    const gate = new ConcurrencyGate({ name: 'api', limit: 1, maxQueue: 0 });
    let reads = 0;
    const observed: number[] = [];
    const c = metricsConfig({ gates: () => (reads++, [gate]), events: 'gates', signalLatency: { intervalMs: 100 } });
    recordings.push(recordEvents(c, { inc: () => undefined, observe: (metric, _labels, s) => metric === 'signalLatency' && observed.push(s) }));
    const idleStart = reads;
    vi.advanceTimersByTime(10_000);
    expect(reads - idleStart).toBeLessThanOrEqual(3);

    // Traffic: sampled every period again.
    const p = gate.admit() as Admission;
    expect(p.ok).toBe(true);
    const busyStart = reads;
    vi.advanceTimersByTime(250); // onset seen: in flight at the limit
    expect(reads - busyStart).toBeGreaterThanOrEqual(2);
    expect(gate.admit()).toMatchObject({ ok: false }); // the reaction: refused
    vi.advanceTimersByTime(100);
    expect(observed).toHaveLength(1);
    expect(observed[0]!).toBeGreaterThanOrEqual(0.1);
    if (p.ok) p.release('success');
    // Calm again: it stops.
    vi.advanceTimersByTime(1_000);
    const after = reads;
    vi.advanceTimersByTime(10_000);
    expect(reads - after).toBe(0);
  });
});
