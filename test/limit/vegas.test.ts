import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/index.js';
import { VEGAS_DEFAULTS, VegasLimit } from '../../src/limit/index.js';

const s = (rttMs: number, inFlight: number, dropped = false) => ({ startTime: 0, rttMs, inFlight, dropped });
/** A Vegas whose probe never fires in these tests (jitter 0.5 × 1000 × limit samples). */
const vegas = (o: ConstructorParameters<typeof VegasLimit>[0] = {}) => new VegasLimit({ probeMultiplier: 1000, random: () => 0, ...o });

describe('VegasLimit update rule', () => {
  it('takes the first RTT as the no-load RTT without changing the limit', () => {
    const v = vegas();
    expect(v.onSample(s(10, 20))).toBe(20);
    expect(v.state().rttNoLoadMs).toBe(10);
    expect(v.onSample(s(8, 20))).toBe(20); // a smaller RTT only lowers rttNoLoad
    expect(v.state().rttNoLoadMs).toBe(8);
  });

  it('grows by beta while there is no queue (queue <= threshold); alpha, beta are 3 % and 6 % of the limit, at least 1 and 2', () => {
    const v = vegas({ initialLimit: 100 });
    v.onSample(s(10, 100));
    expect(v.onSample(s(10, 100))).toBe(106); // queue 0 <= threshold max(1, 3/3) → + beta 6
    const w = vegas();
    w.onSample(s(10, 20));
    expect(w.onSample(s(10, 20))).toBe(22); // limit 20: beta = max(2, 1.2) = 2
    expect(w.onSample(s(10.8, 22))).toBe(22); // ⌈22 · (1 − 10/10.8)⌉ = ⌈1.63⌉ = 2 ∈ [alpha 1, beta 2]: hold
  });

  it('holds inside [alpha, beta], grows by log below alpha, drains half the excess above beta', () => {
    const v = vegas({ initialLimit: 100 });
    v.onSample(s(10, 100));
    expect(v.onSample(s(10.4, 100))).toBe(100); // ⌈100 · (1 − 10/10.4)⌉ = ⌈3.85⌉ = 4 ∈ [3, 6]
    expect(v.onSample(s(10.2, 100))).toBe(102); // ⌈1.96⌉ = 2: 1 < 2 < 3 → + log (2)
    // ⌈102 · 0.5⌉ = 51 > beta 6.12 → − max(log, (51 − 6.12) / 2) = − 22.44
    expect(v.onSample(s(20, 102))).toBeCloseTo(79.56, 12);
    const w = vegas({ initialLimit: 30 });
    w.onSample(s(10, 30));
    expect(w.onSample(s(11, 30))).toBe(29); // ⌈30/11⌉ = 3 > beta 2: − max(1, 0.5) = − log
  });

  it('decreases by log on a drop, and holds when app-limited (2·inFlight < limit)', () => {
    const v = vegas();
    v.onSample(s(10, 20));
    expect(v.onSample(s(10, 20, true))).toBe(19);
    expect(v.onSample(s(10, 9))).toBe(19); // 2·9 < 19
    expect(v.onSample(s(0, 20, true))).toBe(18); // no RTT, but a drop still counts
    expect(v.onSample(s(0, 20))).toBe(18); // no RTT, no information
  });

  it('smooths: limit\' = (1 − smoothing)·limit + smoothing·estimate', () => {
    const v = vegas({ smoothing: 0.5 });
    v.onSample(s(10, 20));
    expect(v.onSample(s(10, 20))).toBe(21); // 0.5·20 + 0.5·22
  });

  it('re-probes the no-load RTT every probeMultiplier·limit·jitter samples', () => {
    // jitter = 0.5 + 0.5·0 = 0.5 → probe when 0.5 · 2 · 20 = 20 <= count.
    const v = new VegasLimit({ probeMultiplier: 2, random: () => 0 });
    v.onSample(s(10, 20));
    for (let i = 0; i < 18; i++) v.onSample(s(11, 20)); // queue ⌈20/11⌉ = 2 ∈ [1, 2]: hold
    expect(v.state()).toMatchObject({ rttNoLoadMs: 10, probeCount: 19 });
    expect(v.onSample(s(11, 20))).toBe(20); // 20th sample: probe
    expect(v.state()).toMatchObject({ rttNoLoadMs: 11, probeCount: 0 });
    expect(v.onSample(s(11, 20))).toBe(22); // against the new no-load RTT there is no queue: + beta 2
  });

  it('re-measures the no-load RTT when a cut leaves the RTT where it was (the dependency got slower)', () => {
    const v = vegas({ initialLimit: 100 });
    v.onSample(s(10, 100));
    expect(v.onSample(s(20, 100))).toBe(78); // queue 50 → − (50 − 6) / 2 = − 22
    // Concurrency 78 ≤ 0.96 · 100 and the RTT stayed within (1 − 78/100) / 4 = 5.5 % of 20: a
    // first test passed. Still a queue against 10: ⌈78 · 0.5⌉ = 39 → − (39 − 4.68) / 2 = − 17.16.
    expect(v.onSample(s(20, 78))).toBeCloseTo(60.84, 12);
    // The second in a row: service time, not a queue. No queue against 20: + beta = 0.06 · 60.84.
    expect(v.onSample(s(20, 60.84))).toBeCloseTo(60.84 * 1.06, 12);
    expect(v.rttNoLoadMs).toBe(20);
    const q = vegas({ initialLimit: 100 });
    q.onSample(s(10, 100));
    q.onSample(s(20, 100));
    q.onSample(s(15.6, 78)); // the RTT followed the cut (20 · 78/100): a queue draining
    expect(q.rttNoLoadMs).toBe(10);
  });

  it('stays within [minLimit, maxLimit]', () => {
    const v = vegas({ initialLimit: 5, minLimit: 4, maxLimit: 8 });
    v.onSample(s(10, 5));
    expect(v.onSample(s(10, 5))).toBe(7); // + beta 2
    expect(v.onSample(s(10, 5))).toBe(8); // 9, clamped
    v.onSample(s(10, 5, true));
    v.onSample(s(10, 5, true));
    v.onSample(s(10, 5, true));
    expect(v.onSample(s(10, 5, true))).toBe(4);
  });

  it('has the documented defaults and validates options', () => {
    const v = new VegasLimit();
    expect([v.limit, v.minLimit, v.maxLimit, v.smoothing, v.probeMultiplier, v.queueAlpha, v.queueBeta]).toEqual([20, 1, 1000, 1, 30, 0.03, 0.06]);
    expect(() => new VegasLimit({ queueAlpha: 0.1, queueBeta: 0.05 })).toThrow(/queueBeta: expected a number in \(queueAlpha \(0.1\), 1\], received 0.05/);
    expect(VEGAS_DEFAULTS.maxLimit).toBe(1000);
    expect(() => new VegasLimit({ smoothing: 0 })).toThrow(/smoothing: expected a number in/);
    expect(() => new VegasLimit({ probeMultiplier: 1.5 })).toThrow(/probeMultiplier: expected an integer >= 1, received 1.5/);
  });

  it('exports and restores its state as plain data', () => {
    const a = vegas();
    a.onSample(s(10, 20));
    a.onSample(s(10, 20));
    const b = vegas();
    b.restore(JSON.parse(JSON.stringify(a.state())));
    expect(b.state()).toEqual(a.state());
    expect(b.onSample(s(20, 26))).toBe(a.onSample(s(20, 26)));
    expect(() => b.restore({ ...a.state(), probeJitter: 2 })).toThrow(InvalidArgumentError);
  });
});
