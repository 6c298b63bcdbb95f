// `keyNames: 'hash'` for every key sluice/redis writes, not the exact rate store's alone: the
// leased rate store, the limit store's token takes and slot leases, a shared concurrency limit
// and a shared breaker named by a tenant. Before, the leased stores wrote the caller's key as it
// is (`<prefix><name>{key:sk_live_…}:g`), whatever the user chose.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/breaker/index.js';
import { ratePolicy } from '../../src/rate/index.js';
import { RedisStore } from '../../src/redis/index.js';
import { keysUnder, sharedRedis, unique } from './servers.js';

const svc = await sharedRedis();
const SECRET = 'sk_live_4b71e09a2c';
const KEY = `key:${SECRET}`;
/** The hashed name of a key, computed here apart from sluice: namespace, '#', the whole SHA-256 in base64url. */
const hashedTag = `{key:#${createHash('sha256').update(KEY).digest('base64url')}}`;
const policy = ratePolicy({ algorithm: 'gcra', rate: 1, perMs: 60_000, burst: 10, name: 'p' });

let raw: Redis;
const prefix = `${unique('kne')}:`;
const stores: RedisStore[] = [];
beforeAll(() => {
  raw = new Redis(svc.url);
});
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  if (raw !== undefined) {
    const keys = await keysUnder(raw, `${prefix}*`);
    if (keys.length > 0) await raw.del(...keys);
    raw.disconnect();
  }
});

async function connect(sub: string, keyNames?: 'hash' | 'raw'): Promise<RedisStore> {
  const s = await RedisStore.connect({ url: svc.url, keyPrefix: `${prefix}${sub}:`, timeoutMs: 2000, ...(keyNames === undefined ? {} : { keyNames }) });
  stores.push(s);
  return s;
}

describe.skipIf(!svc.up)("keyNames 'hash' for every key the store writes", () => {
  it("the connection's keyNames: rate, leased rate, limit store tokens and slots, concurrency, breaker — SCAN finds no raw key", async () => {
    const store = await connect('conn', 'hash');
    expect((await store.rateStore('exact').consume(KEY, policy, 1, 0, 0)).allowed).toBe(true);
    const leased = store.leasedRateStore('leased');
    expect((await leased.consume(KEY, policy, 1, 0, 0)).allowed).toBe(true);
    const limits = store.limitStore();
    expect((await limits.takeTokens(`tokens/${KEY}`, policy, 1, 2)).taken).toBeGreaterThanOrEqual(1);
    expect((await limits.takeSlots(KEY, 3, 1)).granted).toBe(1);
    const gate = store.concurrency({ name: KEY, limit: 2 });
    const permit = await gate.acquire();
    const breaker = new CircuitBreaker({ name: KEY, openMs: 60_000 });
    const shared = store.shareBreaker(breaker, { syncMs: 10_000 });
    breaker.trip();
    await shared.sync();
    const keys = await keysUnder(raw, `${prefix}conn:*`);
    // Each kind of key is there, named by the hash: rate states, leases, breaker.
    expect(keys.filter((k) => k.includes(hashedTag)).map((k) => k.replace(`${prefix}conn:`, '').replace(hashedTag, '{…}')).sort()).toEqual(
      expect.arrayContaining(['exact{…}:g', 'leased{…}:g', '{…}:leases', '{…}:breaker']),
    );
    expect(keys.filter((k) => k.includes(SECRET))).toEqual([]);
    permit.release();
    shared.close();
    leased.close();
    await limits.close();
  });

  it("leasedRateStore(name, { keyNames: 'hash' }) on a raw connection; the raw default still names keys as they are", async () => {
    const store = await connect('view');
    const leased = store.leasedRateStore('leased', { keyNames: 'hash' });
    expect((await leased.consume(KEY, policy, 1, 0, 0)).allowed).toBe(true);
    const plain = store.leasedRateStore('plain');
    expect((await plain.consume(KEY, policy, 1, 0, 0)).allowed).toBe(true);
    expect((await keysUnder(raw, `${prefix}view:*`)).sort()).toEqual([`${prefix}view:leased${hashedTag}:g`, `${prefix}view:plain{${KEY}}:g`]);
    expect(() => store.leasedRateStore('x', { keyNames: 'clear' as never })).toThrow(/keyNames/);
    leased.close();
    plain.close();
  });

  it("a connection's keyNames other than 'hash' or 'raw' is an error naming it", async () => {
    await expect(RedisStore.connect({ url: svc.url, keyNames: 'sha' as never })).rejects.toThrow(/keyNames.*'sha'|keyNames.*"sha"/);
  });
});
