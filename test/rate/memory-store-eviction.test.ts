// A full MemoryStore under random keys: honest newcomers get in, and no key is ever admitted
// more than its policy allows because of evictions (the floors, memory-store.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { algorithmOf, MemoryStore, ratePolicy } from '../../src/rate/index.js';
import { MAX_FLOORS } from '../../src/rate/memory-store.js';
import type { RatePolicy } from '../../src/rate/index.js';
import { anyPolicy } from './arbitraries.js';

const scale = Number(process.env['RATE_PROPERTY_SCALE'] ?? 1);
const DAY = 86_400_000;

describe('MemoryStore full of random keys', () => {
  for (const input of [
    { algorithm: 'sliding-window', limit: 100, windowMs: DAY },
    { algorithm: 'gcra', rate: 100, perMs: DAY, burst: 100 },
    { algorithm: 'token-bucket', rate: 100, perMs: DAY, burst: 100 },
  ] as const) {
    it(`${input.algorithm}: 120 000 random keys, one request each, then an honest new key is admitted (a daily quota)`, () => {
      const p = ratePolicy(input);
      const store = new MemoryStore(); // maxKeys 100 000
      let t = 1000;
      // One expect at the end, not one per call: 120 000 of them took a minute on a busy host (a timeout).
      let admitted = 0;
      for (let i = 0; i < 120_000; i++) if (store.consume(`rand:${i.toString(36)}`, p, 1, t++, 0).allowed) admitted++;
      expect(admitted).toBe(120_000);
      expect(store.size).toBe(100_000);
      const honest = store.consume('tenant:honest', p, 1, t, 0);
      expect(honest).toMatchObject({ allowed: true });
      // It starts from the least-used key's state (one unit), so it has the rest of its quota.
      expect(honest.facts.remaining).toBeGreaterThanOrEqual(97);
      expect(store.keysRefused).toBe(0);
      expect(store.size).toBe(100_000);
    });
  }

  it('a spent quota stays spent however many keys come and go, and newcomers are charged the least-used key', () => {
    const p = ratePolicy({ algorithm: 'sliding-window', limit: 5, windowMs: DAY });
    const store = new MemoryStore({ maxKeys: 1000 });
    for (let i = 0; i < 5; i++) store.consume('heavy', p, 1, 0, 0);
    // 2500 keys through 1000 places, one unit each: each newcomer evicts a least-used key and
    // starts from its count, so the least count climbs by one per ~1000 newcomers (2500 / 1000 → 3).
    for (let i = 0; i < 2500; i++) {
      expect(store.consume(`rand:${i}`, p, 1, i + 1, 0).allowed).toBe(true);
      if (i % 97 === 0) expect(store.consume('heavy', p, 1, i + 1, 0)).toMatchObject({ allowed: false });
    }
    expect(store.keysEvicted).toBe(1501);
    expect(store.consume('heavy', p, 1, 20_000, 0).allowed).toBe(false);
    const newcomer = store.consume('newcomer', p, 1, 20_000, 0);
    expect(newcomer).toMatchObject({ allowed: true });
    expect(newcomer.facts.remaining).toBeGreaterThanOrEqual(1);
  });

  it('a heavy key evicted while spent is refused when it comes back, until its own state would admit it', () => {
    const p = ratePolicy({ algorithm: 'gcra', rate: 10, perMs: 1000, burst: 10 });
    const store = new MemoryStore({ maxKeys: 2 });
    expect(store.consume('heavy', p, 10, 0, 0).allowed).toBe(true); // spent until 1000
    expect(store.consume('other', p, 10, 0, 0).allowed).toBe(true);
    expect(store.consume('new', p, 1, 0, 0).allowed).toBe(true); // nothing evicted yet: fresh; evicts heavy or other
    expect(store.keysEvicted).toBe(1);
    // Whichever went comes back no less spent than it was.
    const back = [store.consume('heavy', p, 1, 0, 0), store.consume('other', p, 1, 0, 0)];
    expect(back.map((d) => d.allowed)).toEqual([false, false]);
    expect(back.filter((d) => d.full === true)).toHaveLength(1); // not proven spent: refused as keys_full (503)
    expect(store.keysRefused).toBe(1);
    // One unit is back at 100 for each (its own state, or the floor of the one evicted).
    expect(store.consume('heavy', p, 1, 100, 0).allowed).toBe(true);
    expect(store.consume('heavy', p, 1, 100, 0).allowed).toBe(false);
  });
});


describe('MemoryStore evictions never admit a key more than its policy allows', () => {
  it('what a tiny store admits for each key, an unbounded one admits too (any policies, costs, gaps, refunds)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 6 }),
        fc.array(anyPolicy, { minLength: 1, maxLength: 3 }),
        fc.array(
          fc.record({ key: fc.integer({ min: 0, max: 11 }), gap: fc.integer({ min: 0, max: 400 }), cost: fc.integer({ min: 1, max: 4 }), refund: fc.boolean() }),
          { maxLength: 300 },
        ),
        (maxKeys, inputs, requests) => {
          const policies = inputs.map((i) => ratePolicy(i));
          const policyOf = (key: number): RatePolicy => policies[key % policies.length]!;
          const small = new MemoryStore({ maxKeys, minTurnoverMs: 0 });
          // Sees only what the small store admitted: it must admit all of it.
          const check = new MemoryStore({ maxKeys: 1_000_000 });
          let t = 0;
          for (const r of requests) {
            t += r.gap;
            const key = `k${r.key}`;
            const p = policyOf(r.key);
            const d = small.consume(key, p, r.cost, t, 0);
            expect(small.size).toBeLessThanOrEqual(maxKeys);
            if (!d.allowed) continue;
            expect(check.consume(key, p, r.cost, t, 0).allowed).toBe(true);
            // A cancelled reservation gives units back to both (the checker knows them).
            if (r.refund) {
              small.refund(key, p, 1, t);
              check.refund(key, p, 1, t);
            }
          }
        },
      ),
      { numRuns: Math.ceil(300 * scale) },
    );
  });
});

describe('RateAlgorithm.cover', () => {
  it('a covering state admits a request only when each state it covers would, now and later', () => {
    const steps = fc.array(fc.record({ gap: fc.integer({ min: 0, max: 700 }), cost: fc.integer({ min: 1, max: 5 }), back: fc.boolean() }), { maxLength: 12 });
    fc.assert(
      fc.property(anyPolicy, steps, steps, fc.integer({ min: 0, max: 3000 }), fc.array(fc.record({ gap: fc.integer({ min: 0, max: 900 }), cost: fc.integer({ min: 1, max: 5 }) }), { maxLength: 8 }), (input, sa, sb, at, probes) => {
        const p = ratePolicy(input);
        const algo = algorithmOf(p);
        const run = (ss: typeof sa): [object, number] => {
          const s = algo.fresh(p, 0);
          let t = 1000;
          for (const x of ss) {
            t += x.gap;
            if (x.back) algo.refund(s, p, 1, t);
            else algo.step(s, p, x.cost, t, 0);
          }
          return [s, t];
        };
        const [a, ta] = run(sa);
        const [b, tb] = run(sb);
        // Covered at a reading at or after both states' last (the store's clock; one set back is rebased as step does).
        const now = Math.max(ta, tb) + at;
        const floor = algo.fresh(p, 0);
        algo.cover(floor, a, p, now);
        algo.cover(floor, b, p, now);
        let t = now;
        for (const probe of probes) {
          t += probe.gap;
          const f = algo.step({ ...floor }, p, probe.cost, t, 0);
          if (f.allowed) {
            expect(algo.step({ ...a }, p, probe.cost, t, 0).allowed).toBe(true);
            expect(algo.step({ ...b }, p, probe.cost, t, 0).allowed).toBe(true);
          }
          expect(algo.available(floor, p, t)).toBeLessThanOrEqual(Math.min(algo.available(a, p, t), algo.available(b, p, t)) + 1e-9);
        }
      }),
      { numRuns: Math.ceil(500 * scale) },
    );
  });
});

describe('MemoryStore eviction order across a window boundary', () => {
  it('half a day into the next window, a newcomer evicts a key that used one unit yesterday, not the one that used 60', () => {
    const p = ratePolicy({ algorithm: 'sliding-window', limit: 100, windowMs: DAY });
    const store = new MemoryStore({ maxKeys: 100 });
    for (let i = 0; i < 100; i++) {
      if (i === 50) expect(store.consume('heavy', p, 60, 1000, 0).allowed).toBe(true);
      else expect(store.consume(`light:${i}`, p, 1, 1000, 0).allowed).toBe(true);
    }
    const noon = DAY + DAY / 2; // yesterday's counts weigh half: heavy 30, each light key 0.5
    for (let i = 0; i < 20; i++) {
      const d = store.consume(`new:${i}`, p, 1, noon, 0);
      expect(d).toMatchObject({ allowed: true });
      expect(d.facts.remaining).toBeGreaterThanOrEqual(97);
    }
    expect(store.available('heavy', p, noon)).toBe(70); // held, never folded into a floor
  });
});

describe('MemoryStore floors are bounded', () => {
  it(`a new key whose eviction would need floor number ${MAX_FLOORS + 1} is refused full (keys_full), and nothing is evicted`, () => {
    // Every key a policy of its own (as an override function computing rates per tenant might make).
    const policyOf = (i: number): RatePolicy => ratePolicy({ algorithm: 'gcra', rate: 1, perMs: DAY + i, burst: 2 });
    const store = new MemoryStore({ maxKeys: 2 });
    for (let i = 0; i < MAX_FLOORS + 2; i++) expect(store.consume(`k${i}`, policyOf(i), 1, 0, 0).allowed).toBe(true);
    expect([store.floors, store.keysEvicted, store.keysRefused]).toEqual([MAX_FLOORS, MAX_FLOORS, 0]);
    const d = store.consume('one-more', policyOf(MAX_FLOORS + 2), 1, 0, 0);
    expect(d).toMatchObject({ allowed: false, full: true });
    expect(d.retryAfterMs).toBeGreaterThan(0);
    expect([store.floors, store.keysEvicted, store.keysRefused, store.size]).toEqual([MAX_FLOORS, MAX_FLOORS, 1, 2]);
    // The keys held are served as ever; once the floors are idle they go, and the newcomer gets in.
    expect(store.consume(`k${MAX_FLOORS + 1}`, policyOf(MAX_FLOORS + 1), 1, 0, 0)).toMatchObject({ allowed: true });
    expect(store.consume('one-more', policyOf(MAX_FLOORS + 2), 1, 3 * DAY, 0)).toMatchObject({ allowed: true, facts: { remaining: 1 } });
  });
});
