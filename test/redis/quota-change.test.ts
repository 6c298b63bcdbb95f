// A quota's rate lowered mid-window (a tenant moved to a smaller plan, a reload): the spent
// state now refills more slowly, so it stays distinct from a fresh one for longer than the
// expiry its last write set. The state must live that long: before, a refused decision wrote
// nothing — the memory store kept the old idle moment, Redis the old key TTL — and the state
// was forgotten at the old moment: the tenant found a full burst again (100 where the new
// rate had refilled 10). A token bucket only: a GCRA state is its TAT, idle at that time
// whatever the rate (a slower rate reads it as fewer units spent), and a sliding window's idle
// moment is two windows on whatever the limit.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore, ratePolicy } from '../../src/rate/index.js';
import type { RatePolicy } from '../../src/rate/index.js';
import { RedisStore } from '../../src/redis/index.js';
import { sharedRedis, unique } from './servers.js';

const DAY = 86_400_000;
const MONTH = 30 * DAY;

/** 100 a month, burst 100 — then 10 a month (same name: the same key). */
function plans(algorithm: 'token-bucket'): { big: RatePolicy; small: RatePolicy } {
  return {
    big: ratePolicy({ algorithm, name: 'monthly', rate: 100, perMs: MONTH, burst: 100 }),
    small: ratePolicy({ algorithm, name: 'monthly', rate: 10, perMs: MONTH, burst: 100 }),
  };
}

describe('a quota lowered mid-window: the spent state outlives the old plan\'s idle moment', () => {
  for (const algorithm of ['token-bucket'] as const) {
    it(`memory store, ${algorithm}: a refusal under the smaller plan keeps the state until it is idle under it`, () => {
      const { big, small } = plans(algorithm);
      const store = new MemoryStore();
      expect(store.consume('t', big, 100, 0, 0).allowed).toBe(true);
      expect(store.consume('t', small, 1, 1, 0).allowed).toBe(false);
      // A month and a day on: the big plan's state would be full again; the small plan refilled 10 and a bit.
      const later = MONTH + DAY;
      expect(store.consume('other', small, 1, later, 0).allowed).toBe(true); // the sweep passes by
      expect(store.consume('t', small, 50, later, 0).allowed).toBe(false);
      expect(store.consume('t', small, 10, later, 0).allowed).toBe(true);
    });
  }
});

const svc = await sharedRedis();

describe.skipIf(!svc.up)('a quota lowered mid-window in Redis: the key\'s TTL follows the state under the plan in use', () => {
  let store: RedisStore;
  let raw: Redis;
  beforeAll(async () => {
    store = await RedisStore.connect({ url: svc.url, keyPrefix: `${unique('quota')}:`, timeoutMs: 2000 });
    raw = new Redis(svc.url);
  });
  afterAll(async () => {
    await store.close();
    raw.disconnect();
  });

  for (const algorithm of ['token-bucket'] as const) {
    it(`${algorithm}: a refusal under the smaller plan extends the key's TTL to its idle moment under it (bounded by it)`, async () => {
      const { big, small } = plans(algorithm);
      const rs = store.rateStore('plans');
      const key = unique('tenant');
      expect((await rs.consume(key, big, 100, 0, 0)).allowed).toBe(true);
      const before = await raw.pttl(rs.keyOf(key, big));
      expect(before).toBeLessThanOrEqual(MONTH + 2000);
      expect((await rs.consume(key, small, 1, 0, 0)).allowed).toBe(false);
      // Idle under the small plan 10 months on (100 units at 10 a month); before: the month of the big plan.
      const ttl = await raw.pttl(rs.keyOf(key, small));
      expect(ttl).toBeGreaterThan(9 * MONTH);
      expect(ttl).toBeLessThanOrEqual(10 * MONTH + 2000);
      // A plan raised back: the TTL is not cut (the key just lives a little longer than needed).
      expect((await rs.consume(key, big, 101, 0, 0)).allowed).toBe(false);
      expect(await raw.pttl(rs.keyOf(key, big))).toBeGreaterThan(9 * MONTH);
    });
  }
});
