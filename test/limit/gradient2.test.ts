import { describe, expect, it } from 'vitest';
import { GRADIENT2_DEFAULTS, Gradient2Limit } from '../../src/limit/index.js';

const s = (rttMs: number, inFlight: number) => ({ startTime: 0, rttMs, inFlight, dropped: false });

describe('Gradient2Limit update rule', () => {
  it('limit\' = 0.5·limit + 0.5·(limit·gradient + 4), gradient = clamp(rttNoLoad / rtt, 0.5, 1)', () => {
    const g = new Gradient2Limit();
    // No-load RTT 10 (first sample); gradient 1.
    expect(g.onSample(s(10, 20))).toBe(0.5 * 20 + 0.5 * (20 + 4)); // 22
    // gradient = 10 / 20 = 0.5.
    expect(g.onSample(s(20, 22))).toBe(0.5 * 22 + 0.5 * (22 * 0.5 + 4)); // 18.5
    // The RTT fell with the cut (a queue): the no-load RTT stays 10; gradient 0.8.
    expect(g.onSample(s(12.5, 18.5))).toBeCloseTo(0.5 * 18.5 + 0.5 * (18.5 * 0.8 + 4), 12); // 18.65
    expect(g.rttNoLoadMs).toBe(10);
  });

  it('floors the gradient at 0.5', () => {
    const g = new Gradient2Limit({ initialLimit: 100 });
    g.onSample(s(10, 0)); // no-load RTT 10, app-limited: no change
    expect(g.limit).toBe(100);
    expect(g.onSample(s(1000, 100))).toBe(0.5 * 100 + 0.5 * (100 * 0.5 + 4)); // 77
  });

  it('tolerates rttTolerance × the no-load RTT before the gradient drops below 1', () => {
    const g = new Gradient2Limit({ rttTolerance: 1.5 });
    g.onSample(s(10, 20));
    expect(g.onSample(s(14, 22))).toBe(24); // min(1, 1.5 · 10 / 14) = 1: + 0.5 · 4
  });

  it('re-measures the no-load RTT when a cut leaves the RTT where it was: it does not drift, and a slower dependency is recognised', () => {
    const g = new Gradient2Limit({ initialLimit: 100 });
    expect(g.onSample(s(10, 100))).toBe(102);
    expect(g.onSample(s(20, 102))).toBe(0.5 * 102 + 0.5 * (102 * 0.5 + 4)); // 78.5
    // Concurrency 78.5 ≤ 0.96 · 102 and the RTT stayed within (1 − 78.5/102) / 4 = 5.8 % of 20:
    // a first test; the gradient is still 0.5.
    expect(g.onSample(s(20, 78.5))).toBe(0.5 * 78.5 + 0.5 * (78.5 * 0.5 + 4)); // 60.875
    // The second in a row re-measures: gradient 1.
    expect(g.onSample(s(20, 60.875))).toBe(0.5 * 60.875 + 0.5 * (60.875 + 4));
    expect(g.rttNoLoadMs).toBe(20);
    // A queue (rtt = 10 · limit / C past a knee C = 50) follows every cut: the estimate stays 10
    // (Netflix's long-term average would drift up), and the limit settles at rttTolerance · C + queueSize.
    const h = new Gradient2Limit({ initialLimit: 100 });
    h.onSample(s(10, 100));
    for (let i = 0; i < 200; i++) h.onSample(s(10 * Math.max(1, h.limit / 50), h.limit));
    expect(h.rttNoLoadMs).toBe(10);
    expect(h.limit).toBeCloseTo(54, 6);
  });

  it('holds when app-limited (2·inFlight < limit) and ignores samples without an RTT', () => {
    const g = new Gradient2Limit();
    expect(g.onSample(s(10, 9))).toBe(20);
    expect(g.onSample(s(0, 20))).toBe(20);
    expect(g.state().rttNoLoadMs).toBe(10);
  });

  it('takes queueSize as a number or a function of the limit', () => {
    const a = new Gradient2Limit({ queueSize: 10 });
    expect(a.onSample(s(10, 20))).toBe(0.5 * 20 + 0.5 * 30);
    const b = new Gradient2Limit({ queueSize: (limit) => Math.sqrt(limit) });
    expect(b.onSample(s(10, 20))).toBeCloseTo(20 + 0.5 * Math.sqrt(20), 12);
    expect(() => new Gradient2Limit({ queueSize: -1 })).toThrow(/queueSize: expected a number >= 0, received -1/);
  });

  it('stays within [minLimit, maxLimit]', () => {
    const g = new Gradient2Limit({ initialLimit: 10, minLimit: 9, maxLimit: 11, queueSize: 100, smoothing: 1 });
    expect(g.onSample(s(10, 10))).toBe(11);
    expect(g.onSample(s(10_000, 11))).toBe(11); // 11 · 0.5 + 100, clamped
    const h = new Gradient2Limit({ initialLimit: 10, minLimit: 9, queueSize: 0, smoothing: 1 });
    expect(h.onSample(s(10, 10))).toBe(10);
    expect(h.onSample(s(10_000, 10))).toBe(9); // 5, clamped
  });

  it('has the documented defaults and validates options', () => {
    const g = new Gradient2Limit();
    expect([g.limit, g.minLimit, g.maxLimit, g.smoothing, g.rttTolerance]).toEqual([20, 1, 200, 0.5, 1]);
    expect(GRADIENT2_DEFAULTS.queueSize).toBe(4);
    expect(() => new Gradient2Limit({ rttTolerance: 0.9 })).toThrow(/rttTolerance: expected a number >= 1, received 0.9/);
    expect(() => new Gradient2Limit({ smoothing: 0 })).toThrow(/smoothing/);
  });

  it('exports and restores its state as plain data', () => {
    const a = new Gradient2Limit();
    for (const r of [10, 12, 30]) a.onSample(s(r, 20));
    const b = new Gradient2Limit();
    b.restore(JSON.parse(JSON.stringify(a.state())));
    expect(b.state()).toEqual(a.state());
    expect(b.onSample(s(15, 20))).toBe(a.onSample(s(15, 20)));
  });
});
