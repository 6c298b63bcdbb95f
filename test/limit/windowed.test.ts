import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/core/index.js';
import { WINDOWED_DEFAULTS, WindowedLimit } from '../../src/limit/index.js';
import type { LimitAlgorithm, LimitSample } from '../../src/limit/index.js';

/** Records what reaches it; its limit counts the samples it got. */
class Recorder implements LimitAlgorithm<{ limit: number }> {
  readonly name = 'recorder';
  readonly minLimit = 1;
  readonly maxLimit = 1000;
  limit = 1;
  seen: LimitSample[] = [];
  onSample(s: LimitSample): number {
    this.seen.push(s);
    return ++this.limit;
  }
  state(): { limit: number } {
    return { limit: this.limit };
  }
  restore(state: { limit: number }): void {
    this.limit = state.limit;
  }
}

/** A sample that ends (is released) at `end` after `rtt` ms. */
const at = (end: number, rtt: number, inFlight = 1, dropped = false): LimitSample => ({ startTime: end - rtt, rttMs: rtt, inFlight, dropped });

describe('WindowedLimit', () => {
  it('feeds one aggregate per window: average RTT, max in-flight, any drop, the window opening time', () => {
    const r = new Recorder();
    const w = new WindowedLimit(r, { minWindowMs: 100, minSamples: 3 });
    w.onSample(at(1000, 10, 4));
    w.onSample(at(1050, 20, 7, true));
    w.onSample(at(1099, 30, 5));
    expect(r.seen).toHaveLength(0); // 99 ms old: not yet
    expect(w.onSample(at(1100, 40, 2))).toBe(2);
    expect(r.seen).toEqual([{ startTime: 1000, rttMs: 25, inFlight: 7, dropped: true }]);
  });

  it('sizes the next window as clamp(2 × the last window\'s min RTT, minWindowMs, maxWindowMs)', () => {
    const r = new Recorder();
    const w = new WindowedLimit(r, { minWindowMs: 100, maxWindowMs: 1000, minSamples: 1 });
    w.onSample(at(0, 300));
    w.onSample(at(100, 300)); // closes the first window; min RTT 300 → next lasts 600 ms
    expect(r.seen).toHaveLength(1);
    w.onSample(at(400, 300)); // granted at 100: after the limit changed (at 100), so it counts
    w.onSample(at(999, 300));
    expect(r.seen).toHaveLength(1);
    w.onSample(at(1000, 300));
    expect(r.seen).toHaveLength(2);
    expect(w.state().duration).toBe(600);
  });

  it('waits for minSamples, and discards a window older than maxWindowMs that never got them', () => {
    const r = new Recorder();
    const w = new WindowedLimit(r, { minWindowMs: 100, maxWindowMs: 500, minSamples: 3 });
    w.onSample(at(0, 10));
    w.onSample(at(200, 10)); // past 100 ms, only 2 samples: keep collecting
    expect(r.seen).toHaveLength(0);
    w.onSample(at(500, 10)); // 3 samples and old enough: delivered
    expect(r.seen).toHaveLength(1);
    w.onSample(at(600, 10));
    w.onSample(at(1100, 10, 1, true)); // 500 ms old with 2 samples: discarded, drop and all
    expect(r.seen).toHaveLength(1);
    expect(w.state()).toMatchObject({ start: -1, count: 0, dropped: false });
  });

  it('leaves out samples granted before the last window that changed the limit closed (they ran under the old limit); their drops still count', () => {
    const r = new Recorder();
    const w = new WindowedLimit(r, { minWindowMs: 100, minSamples: 1 });
    w.onSample(at(0, 10));
    w.onSample(at(100, 10)); // closes at 100; the recorder's limit changes → samples granted before 100 are stale
    w.onSample(at(120, 30, 9, true)); // granted at 90: left out, but its drop counts
    expect(w.state()).toMatchObject({ start: -1, count: 0, dropped: true });
    w.onSample(at(130, 20, 3)); // granted at 110: opens the window
    w.onSample(at(230, 10, 4));
    expect(r.seen[1]).toEqual({ startTime: 130, rttMs: 15, inFlight: 4, dropped: true });
  });

  it('closes a window at maxSamples whatever its age', () => {
    const r = new Recorder();
    const w = new WindowedLimit(r, { minSamples: 2, maxSamples: 3 });
    w.onSample(at(0, 10));
    w.onSample(at(1, 10));
    expect(r.seen).toHaveLength(0);
    w.onSample(at(2, 10));
    expect(r.seen).toHaveLength(1);
  });

  it('aggregates by nearest-rank percentile when asked', () => {
    const r = new Recorder();
    const w = new WindowedLimit(r, { minSamples: 10, percentile: 0.9 });
    for (let i = 1; i <= 10; i++) w.onSample(at(i * 20, i));
    // 10 samples, RTT 1..10: rank round(10 × 0.9) = 9 → 9.
    expect(r.seen[0]!.rttMs).toBe(9);
  });

  it('delegates limit and bounds to the algorithm', () => {
    const r = new Recorder();
    const w = new WindowedLimit(r);
    expect([w.limit, w.minLimit, w.maxLimit, w.name]).toEqual([1, 1, 1000, 'windowed(recorder)']);
    expect([w.minWindowMs, w.maxWindowMs, w.minSamples, w.maxSamples]).toEqual([
      WINDOWED_DEFAULTS.minWindowMs,
      WINDOWED_DEFAULTS.maxWindowMs,
      WINDOWED_DEFAULTS.minSamples,
      WINDOWED_DEFAULTS.maxSamples,
    ]);
  });

  it('validates options', () => {
    const r = new Recorder();
    expect(() => new WindowedLimit(r, { minWindowMs: 0 })).toThrow(InvalidOptionError);
    expect(() => new WindowedLimit(r, { minWindowMs: 200, maxWindowMs: 100 })).toThrow(/maxWindowMs: expected a number >= 200, received 100/);
    expect(() => new WindowedLimit(r, { minSamples: 20, maxSamples: 10 })).toThrow(/maxSamples: expected an integer >= 20, received 10/);
    expect(() => new WindowedLimit(r, { percentile: 0 })).toThrow(/percentile: expected a number in/);
    expect(() => new WindowedLimit(r, { percentile: 1.5 })).toThrow(/percentile/);
  });

  it('exports its open window and the algorithm\'s state as plain data, JSON round trip included', () => {
    const a = new WindowedLimit(new Recorder(), { minSamples: 3, percentile: 0.5 });
    a.onSample(at(0, 10, 3));
    a.onSample(at(10, 30, 5, true));
    const json = JSON.parse(JSON.stringify(a.state()));
    const b = new WindowedLimit(new Recorder(), { minSamples: 3, percentile: 0.5 });
    b.restore(json);
    expect(b.state()).toEqual(a.state());
    const empty = new WindowedLimit(new Recorder());
    const c = new WindowedLimit(new Recorder());
    c.restore(JSON.parse(JSON.stringify(empty.state()))); // minRttMs Infinity → null → Infinity
    expect(c.state()).toEqual(empty.state());
  });
});
