// bench:redis's order of contenders (bench/lib/redis-order.ts): with --base, sluice and
// sluice-base run back to back, each first in half the rounds, after the same predecessors.
import { describe, expect, it } from 'vitest';
import { abRatio, abRounds, mergeRuns, roundOrder } from '../../bench/lib/redis-order.js';

const names = ['sluice', 'single', 'rlf', 'ping', 'sluice-base'];

describe('roundOrder', () => {
  it('rotates by round when there is no pair', () => {
    const plain = ['sluice', 'single', 'rlf'];
    expect(roundOrder(plain, 0)).toEqual(['sluice', 'single', 'rlf']);
    expect(roundOrder(plain, 1)).toEqual(['single', 'rlf', 'sluice']);
    expect(roundOrder(plain, 4)).toEqual(['single', 'rlf', 'sluice']);
  });

  it('keeps the pair adjacent, flips it every round and rotates the rest every second round', () => {
    expect(roundOrder(names, 0)).toEqual(['sluice', 'sluice-base', 'single', 'rlf', 'ping']);
    expect(roundOrder(names, 1)).toEqual(['sluice-base', 'sluice', 'single', 'rlf', 'ping']);
    expect(roundOrder(names, 2)).toEqual(['single', 'rlf', 'ping', 'sluice', 'sluice-base']);
    expect(roundOrder(names, 3)).toEqual(['single', 'rlf', 'ping', 'sluice-base', 'sluice']);
  });

  it('over 2 × units rounds, each side is first as often and follows every predecessor as often', () => {
    const first = { sluice: 0, 'sluice-base': 0 };
    const after = new Map<string, number>();
    const rounds = 2 * 4;
    for (let r = 0; r < rounds; r++) {
      const o = roundOrder(names, r);
      for (let i = 0; i < o.length; i++) {
        if (o[i] !== 'sluice' && o[i] !== 'sluice-base') continue;
        const prev = i === 0 ? 'start' : o[i - 1]!;
        if (prev === 'sluice' || prev === 'sluice-base') continue;
        first[o[i] as 'sluice']++;
        after.set(`${o[i]}<${prev}`, (after.get(`${o[i]}<${prev}`) ?? 0) + 1);
      }
      expect(new Set(o)).toEqual(new Set(names));
    }
    expect(first).toEqual({ sluice: 4, 'sluice-base': 4 });
    for (const p of ['start', 'single', 'rlf', 'ping']) expect(after.get(`sluice<${p}`)).toBe(after.get(`sluice-base<${p}`));
  });

  it('makes an A/B run an even number of rounds', () => {
    expect(abRounds(9, names)).toBe(10);
    expect(abRounds(4, names)).toBe(4);
    expect(abRounds(9, ['sluice', 'rlf'])).toBe(9);
  });
});

describe('abRatio', () => {
  it('splits the rounds by which side ran first', () => {
    const r = abRatio([1, 2, 1, 2], [1, 1, 1, 1]);
    expect(r).toMatchObject({ all: 1.5, aFirst: 1, bFirst: 2, q1: 1, q3: 2 });
  });
});

describe('abba', () => {
  it('runs the pair as A B B A, then B A A B, the rest as before', () => {
    expect(roundOrder(names, 0, undefined, true)).toEqual(['sluice', 'sluice-base', 'sluice-base', 'sluice', 'single', 'rlf', 'ping']);
    expect(roundOrder(names, 1, undefined, true)).toEqual(['sluice-base', 'sluice', 'sluice', 'sluice-base', 'single', 'rlf', 'ping']);
    expect(roundOrder(['sluice', 'rlf'], 1, undefined, true)).toEqual(['rlf', 'sluice']);
  });

  it('merges half cells into one run, CPU and Redis time weighted by decisions', () => {
    const m = mergeRuns([
      { n: 100, seconds: 0.5, lat: [1], cpuUs: 10, redisUs: 2 },
      { n: 300, seconds: 0.5, lat: [2, 3], cpuUs: 20, redisUs: 4 },
    ]);
    expect(m).toEqual({ n: 400, seconds: 1, lat: [1, 2, 3], cpuUs: 17.5, redisUs: 3.5 });
  });
});
