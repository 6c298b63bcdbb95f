// The Redis scripts on a Redis whose clock went back (stepped back by NTP, or a failover to a
// replica whose clock is behind): stored timestamps are then in the future of TIME. Simulated
// by planting such state under the test's own keyPrefix. Before, a token bucket or sliding
// window key planted 50 s ahead was refused until TIME caught up (Retry-After 50 s); now the
// script brings the state to its TIME as it was — admitted within one period, no unit given.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ratePolicy } from '../../src/rate/index.js';
import type { RatePolicy } from '../../src/rate/index.js';
import { RedisStore } from '../../src/redis/index.js';
import { stateKey } from '../../src/redis/keys.js';
import type { RedisRateStore } from '../../src/redis/redis-rate-store.js';
import { sharedRedis, unique } from './servers.js';

const svc = await sharedRedis();
let store: RedisStore;
let raw: Redis;

if (svc.up) {
  beforeAll(async () => {
    store = await RedisStore.connect({ url: svc.url, keyPrefix: `${unique('clockback')}:`, timeoutMs: 5000 });
    raw = new Redis(svc.url);
  });
  afterAll(async () => {
    const keys = await raw.keys(`${store.config.keyPrefix}*`);
    if (keys.length > 0) await raw.del(...keys);
    await store.close();
    raw.disconnect();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function redisNow(): Promise<number> {
  const [s, us] = await raw.time();
  return Number(s) * 1000 + Number(us) / 1000;
}

/** A binary state as the scripts store it: byte 1, then the doubles little-endian. */
function packed(...xs: number[]): Buffer {
  const b = Buffer.alloc(1 + 8 * xs.length);
  b[0] = 1;
  xs.forEach((x, i) => b.writeDoubleLE(x, 1 + 8 * i));
  return b;
}

/** `n` consumes of cost 1 at once (one batch, when they gather); how many were allowed, the largest Retry-After. */
async function burst(rs: RedisRateStore, key: string, p: RatePolicy, n: number): Promise<{ allowed: number; retryAfterMs: number }> {
  const ds = await Promise.all(Array.from({ length: n }, () => rs.consume(key, p, 1, 0, 0)));
  return { allowed: ds.filter((d) => d.allowed).length, retryAfterMs: Math.max(...ds.map((d) => d.retryAfterMs)) };
}

describe.skipIf(!svc.up)('rate scripts on state from a later Redis time', () => {
  it('token bucket: a spent bucket 50 s ahead is refused for one unit’s time, then admits; its TTL follows', async () => {
    const p = ratePolicy({ algorithm: 'token-bucket', rate: 10, burst: 5, name: 'tb' });
    const rs = store.rateStore('tb');
    const key = unique('k');
    await raw.set(stateKey(rs.base, key, 'token-bucket'), packed(0, (await redisNow()) + 50_000), 'PX', 60_000);
    const d = await rs.consume(key, p, 1, 0, 0);
    expect(d.allowed).toBe(false);
    expect(d.retryAfterMs).toBeGreaterThan(0);
    expect(d.retryAfterMs).toBeLessThanOrEqual(100);
    // The refusal wrote the state brought to Redis's time: it expires with it, not 50 s later.
    expect(await raw.pttl(stateKey(rs.base, key, 'token-bucket'))).toBeLessThanOrEqual(3000);
    await sleep(d.retryAfterMs + 20);
    expect((await rs.consume(key, p, 1, 0, 0)).allowed).toBe(true);
  });

  it('token bucket: tokens held 50 s ahead are there, exactly, and no more', async () => {
    const p = ratePolicy({ algorithm: 'token-bucket', rate: 1, perMs: 60_000, burst: 5, name: 'tb' });
    const rs = store.rateStore('tb');
    const key = unique('k');
    await raw.set(stateKey(rs.base, key, 'token-bucket'), packed(3, (await redisNow()) + 50_000), 'PX', 60_000);
    const r = await burst(rs, key, p, 8);
    expect(r.allowed).toBe(3);
    expect(r.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect((await burst(rs, key, p, 4)).allowed).toBe(0);
  });

  it('sliding window: a spent window 50 windows ahead is refused within two windows, then admits', async () => {
    const p = ratePolicy({ algorithm: 'sliding-window', limit: 4, windowMs: 300, name: 'sw' });
    const rs = store.rateStore('sw');
    const key = unique('k');
    await raw.set(stateKey(rs.base, key, 'sliding-window'), packed(Math.floor((await redisNow()) / 300) + 50, 0, 4), 'PX', 60_000);
    const d = await rs.consume(key, p, 1, 0, 0);
    expect(d.allowed).toBe(false);
    expect(d.retryAfterMs).toBeLessThanOrEqual(600);
    await sleep(d.retryAfterMs + 20);
    expect((await rs.consume(key, p, 1, 0, 0)).allowed).toBe(true);
  });

  it('sliding window: what a window 50 windows ahead counted is counted now, exactly', async () => {
    const p = ratePolicy({ algorithm: 'sliding-window', limit: 10, windowMs: 600_000, name: 'sw' });
    const rs = store.rateStore('sw');
    const key = unique('k');
    // 3 in its previous window and 4 in its current: 7 counted now, 3 left.
    await raw.set(stateKey(rs.base, key, 'sliding-window'), packed(Math.floor((await redisNow()) / 600_000) + 50, 3, 4), 'PX', 60_000);
    const r = await burst(rs, key, p, 8);
    expect(r.allowed).toBe(3);
    expect(r.retryAfterMs).toBeLessThanOrEqual(1_200_000);
  });
});
