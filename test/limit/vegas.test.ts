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

  it('grows by beta = 6·log while there is no queue (queue <= threshold = log)', () => {
    const v = vegas();
    v.onSample(s(10, 20));
    expect(v.onSample(s(10, 20))).toBe(26); // queue = ⌈20·(1 − 10/10)⌉ = 0 <= 1
  });

  it('holds inside [alpha, beta], grows by log below alpha, shrinks by log above beta', () => {
    const v = vegas({ initialLimit: 30 });
    v.onSample(s(10, 30));
    expect(v.onSample(s(12, 30))).toBe(30); // queue = ⌈30·(1 − 10/12)⌉ = ⌈5⌉ = 5 ∈ [3, 6]
    expect(v.onSample(s(10.5, 30))).toBe(31); // ⌈30·(1 − 10/10.5)⌉ = ⌈1.43⌉ = 2: 1 < 2 < 3 → +1
    expect(v.onSample(s(20, 31))).toBe(30); // ⌈31·0.5⌉ = 16 > 6 → −1
  });

  it('uses log = ⌊log10(limit)⌋ from 100 up: alpha 6, beta 12', () => {
    const v = vegas({ initialLimit: 100 });
    v.onSample(s(10, 100));
    expect(v.onSample(s(11, 100))).toBe(100); // ⌈100·(1 − 10/11)⌉ = ⌈9.09⌉ = 10 ∈ [6, 12]
    expect(v.onSample(s(10, 100))).toBe(112); // no queue → +12
    expect(v.onSample(s(20, 112))).toBe(110); // ⌈56⌉ > 12 → −2
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
    expect(v.onSample(s(10, 20))).toBe(23); // 0.5·20 + 0.5·26
  });

  it('re-probes the no-load RTT every probeMultiplier·limit·jitter samples', () => {
    // jitter = 0.5 + 0.5·0 = 0.5 → probe when 0.5 · 2 · 20 = 20 <= count.
    const v = new VegasLimit({ probeMultiplier: 2, random: () => 0 });
    v.onSample(s(10, 20));
    for (let i = 0; i < 18; i++) v.onSample(s(12, 20)); // queue ⌈20/6⌉ = 4 ∈ [3, 6]: hold
    expect(v.state()).toMatchObject({ rttNoLoadMs: 10, probeCount: 19 });
    expect(v.onSample(s(12, 20))).toBe(20); // 20th sample: probe
    expect(v.state()).toMatchObject({ rttNoLoadMs: 12, probeCount: 0 });
    expect(v.onSample(s(12, 20))).toBe(26); // against the new no-load RTT there is no queue
  });

  it('stays within [minLimit, maxLimit]', () => {
    const v = vegas({ initialLimit: 5, minLimit: 4, maxLimit: 8 });
    v.onSample(s(10, 5));
    expect(v.onSample(s(10, 5))).toBe(8);
    v.onSample(s(10, 5, true));
    v.onSample(s(10, 5, true));
    v.onSample(s(10, 5, true));
    expect(v.onSample(s(10, 5, true))).toBe(4);
  });

  it('has the documented defaults and validates options', () => {
    const v = new VegasLimit();
    expect([v.limit, v.minLimit, v.maxLimit, v.smoothing, v.probeMultiplier]).toEqual([20, 1, 1000, 1, 30]);
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
