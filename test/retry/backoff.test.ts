import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/retry/index.js';

const fixed = (r: number) => () => r;

describe('backoffDelay (AWS "Exponential Backoff And Jitter")', () => {
  it('none: min(cap, base·2^(n−1))', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay('none', n, 0, 100, 1_000, fixed(0.5)))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('full: random_between(0, min(cap, base·2^(n−1)))', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay('full', n, 0, 100, 1_000, fixed(0.5)))).toEqual([50, 100, 200, 400, 500]);
    expect(backoffDelay('full', 3, 0, 100, 1_000, fixed(0))).toBe(0);
    expect(backoffDelay('full', 3, 0, 100, 1_000, fixed(0.999))).toBeCloseTo(399.6, 9);
  });

  it('equal: t/2 + random_between(0, t/2), t = min(cap, base·2^(n−1))', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay('equal', n, 0, 100, 1_000, fixed(0)))).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay('equal', n, 0, 100, 1_000, fixed(0.5)))).toEqual([75, 150, 300, 600, 750]);
  });

  it('decorrelated: min(cap, random_between(base, 3·prev)), first prev = base', () => {
    let prev = 100;
    const seq: number[] = [];
    for (let n = 1; n <= 5; n++) {
      prev = backoffDelay('decorrelated', n, prev, 100, 2_000, fixed(0.5));
      seq.push(prev);
    }
    // 100 + 0.5·(300 − 100) = 200; 100 + 0.5·(600 − 100) = 350; 100 + 0.5·(1050 − 100) = 575; 912.5; 1418.75
    expect(seq).toEqual([200, 350, 575, 912.5, 1_418.75]);
    expect(backoffDelay('decorrelated', 9, 1_900, 100, 2_000, fixed(0.9))).toBe(2_000);
    expect(backoffDelay('decorrelated', 1, 100, 100, 2_000, fixed(0))).toBe(100);
  });

  it('never overflows: a huge retry number stays at the cap', () => {
    expect(backoffDelay('none', 5_000, 0, 100, 30_000, fixed(0))).toBe(30_000);
    expect(backoffDelay('full', 5_000, 0, 100, 30_000, fixed(0.5))).toBe(15_000);
  });

  it('base 0 retries at once', () => {
    for (const j of ['none', 'full', 'equal', 'decorrelated'] as const) expect(backoffDelay(j, 3, 0, 0, 1_000, fixed(0.7))).toBe(0);
  });
});
