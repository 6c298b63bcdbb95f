import { describe, expect, it } from 'vitest';
import { GRADIENT2_DEFAULTS, Gradient2Limit } from '../../src/limit/index.js';

const s = (rttMs: number, inFlight: number) => ({ startTime: 0, rttMs, inFlight, dropped: false });

describe('Gradient2Limit update rule', () => {
  it('limit\' = 0.8·limit + 0.2·(limit·gradient + 4), gradient = clamp(1.5·longRtt / rtt, 0.5, 1)', () => {
    const g = new Gradient2Limit();
    // longRtt = 10 (warm-up mean); gradient = min(1, 1.5) = 1.
    expect(g.onSample(s(10, 20))).toBeCloseTo(0.8 * 20 + 0.2 * (20 + 4), 12); // 20.8
    // longRtt = (10 + 20) / 2 = 15; 1.5·15/20 = 1.125 → 1.
    expect(g.onSample(s(20, 20))).toBeCloseTo(0.8 * 20.8 + 0.2 * (20.8 + 4), 12); // 21.6
    // longRtt = 70/3; gradient = 1.5·(70/3)/40 = 0.875.
    const expected = 0.8 * 21.6 + 0.2 * (21.6 * 0.875 + 4);
    expect(g.onSample(s(40, 20))).toBeCloseTo(expected, 12);
    expect(g.longRttMs).toBeCloseTo(70 / 3, 12);
  });

  it('floors the gradient at 0.5', () => {
    const g = new Gradient2Limit({ initialLimit: 100, rttTolerance: 1 });
    for (let i = 0; i < 10; i++) g.onSample(s(10, 0)); // warm up at 10 ms, app-limited: no change
    expect(g.limit).toBe(100);
    // longRtt = 10 + (2/601)·(1000 − 10); gradient = 1·longRtt / 1000 < 0.5 → 0.5.
    expect(g.onSample(s(1000, 100))).toBeCloseTo(0.8 * 100 + 0.2 * (100 * 0.5 + 4), 12); // 90.8
  });

  it('folds RTT into the long-term average as an EWMA of weight 2/(longWindow+1) after 10 samples', () => {
    const g = new Gradient2Limit({ longWindow: 9 });
    for (let i = 0; i < 10; i++) g.onSample(s(10, 0));
    g.onSample(s(20, 0));
    expect(g.longRttMs).toBeCloseTo(10 + 0.2 * (20 - 10), 12); // 2 / (9 + 1) = 0.2
  });

  it('decays longRtt by 0.95 when it is more than twice the sample', () => {
    const g = new Gradient2Limit({ longWindow: 3 }); // EWMA weight 2 / (3 + 1) = 0.5 after warm-up
    for (let i = 0; i < 10; i++) g.onSample(s(100, 0));
    expect(g.longRttMs).toBeCloseTo(100, 12);
    // longRtt ← 100 + 0.5·(10 − 100) = 55; 55 / 10 > 2 → 0.95 · 55.
    g.onSample(s(10, 0));
    expect(g.longRttMs).toBeCloseTo(52.25, 12);
    // 52.25 + 0.5·(30 − 52.25) = 41.125; 41.125 / 30 < 2: no decay.
    g.onSample(s(30, 0));
    expect(g.longRttMs).toBeCloseTo(41.125, 12);
  });

  it('holds when app-limited (2·inFlight < limit) and ignores samples without an RTT', () => {
    const g = new Gradient2Limit();
    expect(g.onSample(s(10, 9))).toBe(20);
    expect(g.onSample(s(0, 20))).toBe(20);
    expect(g.state().longRttCount).toBe(1);
  });

  it('takes queueSize as a number or a function of the limit', () => {
    const a = new Gradient2Limit({ queueSize: 10 });
    expect(a.onSample(s(10, 20))).toBeCloseTo(0.8 * 20 + 0.2 * 30, 12);
    const b = new Gradient2Limit({ queueSize: (limit) => Math.sqrt(limit) });
    expect(b.onSample(s(10, 20))).toBeCloseTo(20 + 0.2 * Math.sqrt(20), 12);
    expect(() => new Gradient2Limit({ queueSize: -1 })).toThrow(/queueSize: expected a number >= 0, received -1/);
  });

  it('stays within [minLimit, maxLimit]', () => {
    const g = new Gradient2Limit({ initialLimit: 10, minLimit: 9, maxLimit: 11, queueSize: 100, smoothing: 1 });
    expect(g.onSample(s(10, 10))).toBe(11);
    for (let i = 0; i < 10; i++) g.onSample(s(10, 10));
    expect(g.onSample(s(10_000, 11))).toBe(Math.max(9, Math.min(11, 11 * 0.5 + 100)));
    const h = new Gradient2Limit({ initialLimit: 10, minLimit: 9, queueSize: 0, smoothing: 1, rttTolerance: 1 });
    for (let i = 0; i < 10; i++) h.onSample(s(10, 10));
    expect(h.onSample(s(10_000, 10))).toBe(9);
  });

  it('has the documented defaults (Netflix Gradient2Limit) and validates options', () => {
    const g = new Gradient2Limit();
    expect([g.limit, g.minLimit, g.maxLimit, g.smoothing, g.longWindow, g.rttTolerance]).toEqual([20, 1, 200, 0.2, 600, 1.5]);
    expect(GRADIENT2_DEFAULTS.queueSize).toBe(4);
    expect(() => new Gradient2Limit({ rttTolerance: 0.9 })).toThrow(/rttTolerance: expected a number >= 1, received 0.9/);
    expect(() => new Gradient2Limit({ longWindow: 0 })).toThrow(/longWindow/);
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
