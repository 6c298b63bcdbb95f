import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidOptionError } from '../../src/core/index.js';
import { AIMD_DEFAULTS, AimdLimit } from '../../src/limit/index.js';

const ok = (inFlight: number, rttMs = 10) => ({ startTime: 0, rttMs, inFlight, dropped: false });
const drop = (inFlight = 20) => ({ startTime: 0, rttMs: 10, inFlight, dropped: true });

describe('AimdLimit update rule', () => {
  it('adds 1 when at least half the limit is in flight, else holds', () => {
    const a = new AimdLimit({ initialLimit: 20 });
    expect(a.onSample(ok(10))).toBe(21); // 2·10 >= 20
    expect(a.onSample(ok(10))).toBe(21); // 2·10 < 21: app-limited
    expect(a.onSample(ok(11))).toBe(22);
  });

  it('multiplies by backoffRatio and floors on a drop', () => {
    const a = new AimdLimit({ initialLimit: 20 });
    expect(a.onSample(drop())).toBe(19); // ⌊20 · 0.95⌋
    expect(a.onSample(drop())).toBe(18); // ⌊19 · 0.95⌋ = ⌊18.05⌋
    const b = new AimdLimit({ initialLimit: 9, backoffRatio: 0.5 });
    expect(b.onSample(drop())).toBe(4); // ⌊4.5⌋
  });

  it('counts an RTT above timeoutMs as a drop', () => {
    const a = new AimdLimit({ initialLimit: 10, timeoutMs: 100, rttTolerance: Infinity });
    expect(a.onSample(ok(10, 100))).toBe(11); // not above
    expect(a.onSample(ok(10, 100.5))).toBe(10); // ⌊11 · 0.95⌋ = ⌊10.45⌋
  });

  it('counts an RTT above rttTolerance × the no-load RTT as a drop', () => {
    const a = new AimdLimit({ initialLimit: 20 });
    expect(a.onSample(ok(20, 10))).toBe(21); // first sample: no-load RTT 10
    expect(a.onSample(ok(21, 10.5))).toBe(22); // 10.5 = 1.05 · 10: not above
    expect(a.onSample(ok(22, 10.6))).toBe(20); // above: ⌊22 · 0.95⌋ = ⌊20.9⌋
    expect(a.rttNoLoadMs).toBe(10);
  });

  it('re-measures the no-load RTT when a backoff leaves the RTT where it was (the dependency got slower)', () => {
    const a = new AimdLimit({ initialLimit: 100 });
    a.onSample(ok(100, 10)); // no-load 10; reference (100, 10)
    expect(a.onSample(ok(101, 20))).toBe(95); // 2x slower: a drop, ⌊101 · 0.95⌋ = ⌊95.95⌋; reference (101, 20)
    // Concurrency 95 ≤ 0.96 · 101; a queue would have cut the RTT by 6 %, it stayed within
    // (1 − 95/101)/4 = 1.49 % of 20: a first test passed; still a drop, ⌊95 · 0.95⌋ = ⌊90.25⌋.
    expect(a.onSample(ok(95, 20))).toBe(90);
    expect(a.state().pending).toBe(true);
    // Second test in a row (90 ≤ 0.96 · 95, the RTT stayed): 20 is the no-load RTT, and no drop.
    expect(a.onSample(ok(90, 20))).toBe(91);
    expect(a.rttNoLoadMs).toBe(20);
  });

  it('keeps the no-load RTT when the RTT follows a backoff down (a queue)', () => {
    const a = new AimdLimit({ initialLimit: 100 });
    a.onSample(ok(100, 10));
    expect(a.onSample(ok(101, 20))).toBe(95);
    expect(a.onSample(ok(95, 19))).toBe(90); // 19 < 20 · (1 − 1.49 %): queueing; still a drop, ⌊95 · 0.95⌋ = ⌊90.25⌋
    expect(a.rttNoLoadMs).toBe(10);
  });

  it('stays within [minLimit, maxLimit]', () => {
    const a = new AimdLimit({ initialLimit: 3, minLimit: 2, maxLimit: 4 });
    a.onSample(ok(3));
    expect(a.onSample(ok(4))).toBe(4);
    expect(a.onSample(drop())).toBe(3);
    expect(a.onSample(drop())).toBe(2);
    expect(a.onSample(drop())).toBe(2);
  });

  it('has the documented defaults', () => {
    const a = new AimdLimit();
    expect(a.limit).toBe(AIMD_DEFAULTS.initialLimit);
    expect([a.minLimit, a.maxLimit, a.backoffRatio, a.timeoutMs, a.rttTolerance]).toEqual([1, 200, 0.95, 5000, 1.05]);
  });

  it('validates options once, naming the option, the range and the value', () => {
    expect(() => new AimdLimit({ backoffRatio: 1 })).toThrow(InvalidOptionError);
    expect(() => new AimdLimit({ backoffRatio: 0.4 })).toThrow(/backoffRatio: expected a number in \[0.5, .*\], received 0.4/);
    expect(() => new AimdLimit({ minLimit: 0 })).toThrow(/minLimit: expected a finite integer >= 1, received 0/);
    expect(() => new AimdLimit({ minLimit: 10, maxLimit: 5 })).toThrow(/maxLimit: expected an integer >= minLimit \(10\), received 5/);
    expect(() => new AimdLimit({ initialLimit: 300 })).toThrow(/initialLimit: expected an integer in \[1, 200\], received 300/);
    expect(() => new AimdLimit({ timeoutMs: 0 })).toThrow(/timeoutMs/);
    // A default initial limit is clamped into explicit bounds rather than contradicting them.
    expect(new AimdLimit({ maxLimit: 5 }).limit).toBe(5);
    expect(new AimdLimit({ minLimit: 50 }).limit).toBe(50);
  });

  it('exports and restores its state as plain data', () => {
    const a = new AimdLimit();
    a.onSample(ok(20));
    const state = JSON.parse(JSON.stringify(a.state()));
    expect(state).toEqual({ limit: 21, rttNoLoadMs: 10, refInFlight: 20, refRttMs: 10, pending: false });
    const b = new AimdLimit();
    b.restore(state);
    expect(b.limit).toBe(21);
    expect(() => b.restore({ ...state, limit: 0 })).toThrow(InvalidArgumentError);
    expect(() => b.restore({ ...state, limit: 2.5 })).toThrow(/state.limit/);
    expect(() => b.restore({ ...state, rttNoLoadMs: -1 })).toThrow(/state.rttNoLoadMs/);
  });
});
