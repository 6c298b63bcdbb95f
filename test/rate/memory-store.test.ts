import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/core/index.js';
import { algorithmOf, capacityOf, gcra, MemoryStore, ratePolicy, slidingWindow, tokenBucket, windowOf } from '../../src/rate/index.js';

describe('ratePolicy', () => {
  it('validates once, freezes, fills defaults and passes a validated policy through', () => {
    const p = ratePolicy({ algorithm: 'gcra', rate: 5 });
    expect(p).toEqual({ algorithm: 'gcra', name: 'gcra', rate: 5, perMs: 1000, burst: 5 });
    expect(Object.isFrozen(p)).toBe(true);
    expect(ratePolicy(p)).toBe(p);
    expect(ratePolicy({ algorithm: 'sliding-window', limit: 3, windowMs: 10 }, 'policy', 'tenant')).toMatchObject({ name: 'tenant' });
  });

  it('capacityOf and windowOf give the facts a decision reports (limit, windowMs)', () => {
    for (const input of [
      { algorithm: 'token-bucket', rate: 4, perMs: 1000, burst: 8 },
      { algorithm: 'gcra', rate: 4, perMs: 1000, burst: 8 },
      { algorithm: 'sliding-window', limit: 8, windowMs: 2000 },
    ] as const) {
      const p = ratePolicy(input);
      const d = new MemoryStore().consume('k', p, 1, 0, 0);
      expect([d.facts.limit, d.facts.windowMs]).toEqual([capacityOf(p), windowOf(p)]);
      expect([d.facts.limit, d.facts.windowMs]).toEqual([8, 2000]);
    }
  });

  it('names the field in errors and refuses fields of another algorithm', () => {
    const cases: [unknown, string][] = [
      [{ algorithm: 'leaky' }, 'policy.algorithm'],
      [{ algorithm: 'token-bucket' }, 'policy.rate'],
      [{ algorithm: 'token-bucket', rate: 1, limit: 2 }, 'policy.limit'],
      [{ algorithm: 'sliding-window', limit: 2, windowMs: 5, burst: 3 }, 'policy.burst'],
      [{ algorithm: 'sliding-window', limit: 2 }, 'policy.windowMs'],
      [{ algorithm: 'gcra', rate: 1, name: '' }, 'policy.name'],
      [null, 'policy'],
    ];
    for (const [input, option] of cases) {
      expect(() => ratePolicy(input as never)).toThrow(InvalidOptionError);
      expect(() => ratePolicy(input as never)).toThrow(expect.objectContaining({ option }));
    }
  });
});

describe('algorithm functions', () => {
  it('are plain functions over plain data: JSON round-trips the state', () => {
    const p = ratePolicy({ algorithm: 'token-bucket', rate: 10, burst: 5 }) as Parameters<typeof tokenBucket.step>[1];
    const s = tokenBucket.fresh(p, 0);
    tokenBucket.step(s, p, 3, 0, 0);
    const copy = JSON.parse(JSON.stringify(s));
    expect(tokenBucket.step(copy, p, 3, 50, 0)).toEqual(tokenBucket.step(s, p, 3, 50, 0));
  });

  it('a refusal leaves the state untouched', () => {
    const g = ratePolicy({ algorithm: 'gcra', rate: 10, burst: 2 }) as Parameters<typeof gcra.step>[1];
    const s = gcra.fresh(g, 0);
    gcra.step(s, g, 2, 0, 0);
    const before = { ...s };
    expect(gcra.step(s, g, 1, 10, 0).allowed).toBe(false);
    expect(s).toEqual(before);
    const w = ratePolicy({ algorithm: 'sliding-window', limit: 2, windowMs: 100 }) as Parameters<typeof slidingWindow.step>[1];
    const sw = slidingWindow.fresh(w, 0);
    slidingWindow.step(sw, w, 2, 0, 0);
    const swBefore = { ...sw };
    expect(slidingWindow.step(sw, w, 1, 120, 0).allowed).toBe(false);
    expect(sw).toEqual(swBefore);
  });

  it('a state at its idleAt is equivalent to a fresh one', () => {
    for (const input of [
      { algorithm: 'token-bucket', rate: 3, perMs: 700, burst: 4 },
      { algorithm: 'gcra', rate: 3, perMs: 700, burst: 4 },
      { algorithm: 'sliding-window', limit: 4, windowMs: 700 },
    ] as const) {
      const p = ratePolicy(input);
      const algo = algorithmOf(p);
      for (const cost of [1, 2, 4, 5]) {
        const used = algo.fresh(p, 100);
        algo.step(used, p, 3, 100, 0);
        algo.step(used, p, 1, 150, 0);
        const t = algo.idleAt(used, p);
        expect(algo.step(used, p, cost, t, 0)).toEqual(algo.step(algo.fresh(p, 0), p, cost, t, 0));
      }
    }
  });
});

describe('MemoryStore', () => {
  const tb = ratePolicy({ algorithm: 'token-bucket', rate: 1, perMs: 1000, burst: 10 });

  it('validates its options', () => {
    expect(() => new MemoryStore({ maxKeys: 1 })).toThrow(expect.objectContaining({ option: 'maxKeys' }));
    expect(() => new MemoryStore({ maxKeys: 2.5 })).toThrow(expect.objectContaining({ option: 'maxKeys' }));
    expect(() => new MemoryStore({ minTurnoverMs: -1 })).toThrow(expect.objectContaining({ option: 'minTurnoverMs' }));
  });

  // 100 times maxKeys over one refill time: the bound is the same at any multiple, and a
  // million keys took 14 s of the test's 20 s beside CPU hogs.
  it('holds 100 times maxKeys distinct keys in bounded memory', () => {
    const store = new MemoryStore({ maxKeys: 1000 });
    let max = 0;
    for (let i = 0; i < 100_000; i++) {
      store.consume(`key:${i}`, tb, 1, i / 100, 0);
      if (store.size > max) max = store.size;
    }
    expect(max).toBeLessThanOrEqual(1000);
    expect(max).toBeGreaterThan(900);
  });

  it('does not store a key whose only request was refused', () => {
    const store = new MemoryStore();
    store.consume('big', tb, 11, 0, 0);
    expect(store.size).toBe(0);
  });

  it('idle keys leave memory by time, never before they are idle', () => {
    const store = new MemoryStore({ minTurnoverMs: 0 });
    store.consume('a', tb, 10, 0, 0); // empty: idle (full again) at 10 000
    store.prune(1000);
    store.prune(5000);
    expect(store.size).toBe(1);
    expect(store.available('a', tb, 5000)).toBe(5); // still remembered, not reset to 10
    store.consume('b', tb, 1, 6000, 0); // idle at 7000
    store.prune(6999);
    expect(store.size).toBe(2);
    store.prune(7000);
    expect(store.size).toBe(1);
    store.prune(9999);
    expect(store.size).toBe(1);
    store.prune(10_000);
    expect(store.size).toBe(0);
  });

  it('idle keys also leave by the running sweep of ordinary calls, without prune', () => {
    const store = new MemoryStore();
    for (let i = 0; i < 100; i++) store.consume(`k${i}`, tb, 1, 0, 0); // each idle at 1000
    for (let t = 1000; t < 1100; t++) store.consume('hot', tb, 0.001, t, 0);
    expect(store.size).toBe(1);
  });

  it('a reservation (debt) pushes idleAt out, so the key is kept while it is in debt', () => {
    const store = new MemoryStore({ minTurnoverMs: 0 });
    store.consume('a', tb, 10, 0, 0);
    expect(store.consume('a', tb, 5, 0, 5000)).toMatchObject({ allowed: true, delayMs: 5000 }); // tokens −5: idle at 15 000
    store.prune(1);
    store.prune(12_000);
    expect(store.available('a', tb, 12_000)).toBe(7);
    store.prune(14_999);
    expect(store.size).toBe(1);
    store.prune(15_000);
    expect(store.size).toBe(0);
  });

  it('full sweeps are rate-limited by minTurnoverMs', () => {
    const store = new MemoryStore({ minTurnoverMs: 60_000 });
    store.consume('a', tb, 10, 0, 0); // idle at 10 000
    store.prune(5000); // a sweep: nothing idle yet
    store.prune(30_000);
    store.prune(64_999);
    expect(store.size).toBe(1);
    store.prune(65_000);
    expect(store.size).toBe(0);
  });

  it('a full table of live state evicts the key first to go idle into its floor; a newcomer refused by the floor is full, a held key never reset', () => {
    const store = new MemoryStore({ maxKeys: 3 });
    for (const k of ['a', 'b', 'c']) expect(store.consume(k, tb, 10, 0, 0).allowed).toBe(true); // all empty: idle at 10 000
    // Nothing evicted yet, so a newcomer is new: fresh, admitted; one of a, b, c makes room.
    expect(store.consume('d', tb, 1, 1, 0)).toMatchObject({ allowed: true, facts: { remaining: 9 } });
    expect([store.size, store.keysEvicted, store.floors]).toEqual([3, 1, 1]);
    // The next one may be the key evicted: it starts from the floor, an empty bucket.
    const refused = store.consume('e', tb, 1, 2, 0);
    expect(refused).toMatchObject({ allowed: false, full: true, delayMs: 0 });
    expect(refused.retryAfterMs).toBe(998); // when the floor has a unit again
    expect(store.keysRefused).toBe(1);
    expect(store.size).toBe(3);
    for (const k of ['a', 'b', 'c']) expect(store.consume(k, tb, 1, 2, 0).allowed).toBe(false); // still spent, held or not
    // Once the floor is full again it is forgotten, and a newcomer starts fresh.
    expect(store.consume('e', tb, 1, 10_000, 0)).toMatchObject({ allowed: true, facts: { remaining: 9 } });
    expect(store.floors).toBe(0);
    expect(store.size).toBeLessThanOrEqual(3);
  });

  it('refund gives back units; unknown keys are a no-op', () => {
    const store = new MemoryStore();
    store.consume('a', tb, 10, 0, 0);
    store.refund('a', tb, 4, 0);
    expect(store.available('a', tb, 0)).toBe(4);
    store.refund('nope', tb, 4, 0);
    expect(store.size).toBe(1);
  });

  it('a key whose policy changed algorithm starts fresh', () => {
    const store = new MemoryStore();
    const sw = ratePolicy({ algorithm: 'sliding-window', limit: 3, windowMs: 1000 });
    store.consume('a', tb, 10, 0, 0);
    expect(store.consume('a', sw, 3, 0, 0)).toMatchObject({ allowed: true, facts: { remaining: 0 } });
    expect(store.consume('a', tb, 1, 0, 0)).toMatchObject({ allowed: true, facts: { remaining: 9 } });
    expect(store.delete('a')).toBe(true);
    store.clear();
    expect(store.size).toBe(0);
  });
});
