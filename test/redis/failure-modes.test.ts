// Failure modes against a redis-server this test starts itself (free port, no persistence)
// and stops by its PID: SIGKILL for an outage, SIGSTOP for a store that hangs (the timeout),
// then a start on the same port — shared state is back within 2 s.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ratePolicy } from '../../src/rate/index.js';
import type { RateDecision } from '../../src/rate/index.js';
import { RedisStore, StoreUnavailableError } from '../../src/redis/index.js';
import { freePort, haveRedisServer, OwnRedis, until } from './servers.js';

const can = haveRedisServer();
const burst10 = ratePolicy({ algorithm: 'gcra', rate: 10, burst: 10, name: 'p' });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Decide `n` times in a row for `key`. */
async function decide(store: ReturnType<RedisStore['rateStore']>, key: string, n: number): Promise<RateDecision[]> {
  const out: RateDecision[] = [];
  for (let i = 0; i < n; i++) out.push(await store.consume(key, burst10, 1, performance.now(), 0));
  return out;
}

/** Decide every 20 ms until the store is shared again; ms from `since` (a performance.now()). */
async function backToShared(redis: RedisStore, since: number): Promise<number> {
  const rs = redis.rateStore('probe');
  const end = since + 10_000;
  while (redis.health !== 'shared' && performance.now() < end) {
    await rs.consume('p', burst10, 1, performance.now(), 0);
    await sleep(20);
  }
  expect(redis.health).toBe('shared');
  return performance.now() - since;
}

describe.skipIf(!can)('failure modes (a Redis of our own, stopped by PID)', () => {
  let own: OwnRedis;
  let redis: RedisStore;
  beforeAll(async () => {
    own = await OwnRedis.start();
    // Timeout generous for a busy machine: the outage here is a refused connection, which fails at once.
    redis = await RedisStore.connect({ url: own.url, timeoutMs: 500, probeMs: 300, failures: 3 });
  });
  afterAll(async () => {
    await redis.close();
    await own.dispose();
  });

  it('open, closed and local during one outage, each store by its own mode; shared again within 2 s of Redis returning', async () => {
    const open = redis.rateStore('open', { onStoreError: 'open' });
    const closed = redis.rateStore('closed', { onStoreError: 'closed' });
    const local = redis.rateStore('local', { onStoreError: 'local', instances: 2 });
    // Shared: the burst of 10, then refusals.
    expect((await decide(local, 'k', 12)).filter((d) => d.allowed)).toHaveLength(10);
    const changes: string[] = [];
    const off = redis.onHealth((h) => changes.push(h));

    await own.stop(); // SIGKILL by PID
    const o = await decide(open, 'k', 15);
    expect(o.every((d) => d.allowed && d.delayMs === 0)).toBe(true);
    const c = await decide(closed, 'k', 15);
    expect(c.every((d) => !d.allowed && d.retryAfterMs === 300)).toBe(true);
    // Local: this process's share, 10 / 2 instances = burst 5, from a fresh local bucket.
    const l = await decide(local, 'k2', 15);
    expect(l.filter((d) => d.allowed)).toHaveLength(5);
    expect(l.slice(5).every((d) => !d.allowed && d.retryAfterMs > 0 && d.retryAfterMs <= 200)).toBe(true);
    expect(redis.health).toBe('fallback');
    // The breaker opened after 3 failures: the rest never waited for Redis.
    const s = redis.guard.stats();
    expect(s.shortCircuited).toBeGreaterThan(30);

    await own.start(); // same port, empty (no persistence)
    const ms = await backToShared(redis, performance.now());
    expect(ms).toBeLessThanOrEqual(2000);
    expect(changes).toEqual(['fallback', 'shared']);
    off();
    // Shared again: a fresh bucket in the new Redis, for every store.
    expect((await decide(closed, 'k', 12)).filter((d) => d.allowed)).toHaveLength(10);
    expect((await decide(open, 'k', 12)).filter((d) => d.allowed)).toHaveLength(10);
  });

  it('a hung Redis (SIGSTOP) costs one timeout, not one per request: the breaker short-circuits the rest', async () => {
    const rs = redis.rateStore('hang', { onStoreError: 'local' });
    await decide(rs, 'k', 1);
    const before = redis.guard.stats();
    process.kill(own.pid!, 'SIGSTOP');
    try {
      // 50 callers at once, then 50 one after another: every promise settles, in the failure mode.
      const t0 = performance.now();
      const burst = await Promise.all(Array.from({ length: 50 }, () => rs.consume('k2', burst10, 1, performance.now(), 0)));
      const seq = await decide(rs, 'k3', 50);
      const elapsed = performance.now() - t0;
      expect(burst.length + seq.length).toBe(100);
      const s = redis.guard.stats();
      const timedOut = s.timedOut - before.timedOut;
      // The 50 concurrent ones were in flight together: they time out together; afterwards at
      // most the 3 that open the breaker and one probe per probe period waited for Redis.
      expect(timedOut).toBeGreaterThanOrEqual(3);
      expect(timedOut).toBeLessThanOrEqual(50 + 3 + Math.ceil(elapsed / 300) + 1);
      expect(s.shortCircuited - before.shortCircuited).toBeGreaterThanOrEqual(40);
      expect(redis.health).toBe('fallback');
    } finally {
      process.kill(own.pid!, 'SIGCONT');
    }
    const ms = await backToShared(redis, performance.now());
    expect(ms).toBeLessThanOrEqual(2000);
  });

  it('a decision in flight when Redis dies settles (in the failure mode); nothing hangs', async () => {
    const rs = redis.rateStore('inflight', { onStoreError: 'closed' });
    await decide(rs, 'k', 1);
    const pending = Array.from({ length: 20 }, () => rs.consume('k', burst10, 1, performance.now(), 0));
    await own.stop();
    const all = await Promise.all(pending);
    expect(all).toHaveLength(20);
    await own.start();
    await backToShared(redis, performance.now());
  });

  it('maintenance calls outside a decision reject with StoreUnavailableError during an outage', async () => {
    const rs = redis.rateStore('maint');
    await own.stop();
    try {
      const err = await rs.delete('k').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect((err as StoreUnavailableError).code).toBe('SLUICE_ERR_STORE_UNAVAILABLE');
    } finally {
      await own.start();
    }
    await backToShared(redis, performance.now());
  });
});

describe.skipIf(!can)('shared concurrency during an outage', () => {
  it('open admits up to the limit, local its share, closed nothing without valid leases; back in shared mode the work admitted meanwhile is leased', async () => {
    const own = await OwnRedis.start();
    const redis = await RedisStore.connect({ url: own.url, timeoutMs: 500, probeMs: 200 });
    try {
      const open = redis.concurrency({ name: 'open', limit: 4, onStoreError: 'open' });
      const local = redis.concurrency({ name: 'local', limit: 4, onStoreError: 'local', instances: 2 });
      const closed = redis.concurrency({ name: 'closed', limit: 4, onStoreError: 'closed', leaseTtlMs: 300 });
      const before = await Promise.all([open.admit(), local.admit(), closed.admit()]);
      expect(before.every((a) => a.ok)).toBe(true);
      for (const a of before) if (a.ok) a.release();
      await own.stop();
      const admitAll = async (g: typeof open, n: number): Promise<boolean[]> => {
        const out: boolean[] = [];
        for (let i = 0; i < n; i++) out.push((await g.admit()).ok);
        return out;
      };
      const o = await admitAll(open, 6);
      expect(o).toEqual([true, true, true, true, false, false]);
      expect(await admitAll(local, 4)).toEqual([true, true, false, false]);
      expect(await admitAll(closed, 2)).toEqual([false, false]);
      expect(open.stats().mode).toBe('fallback');
      await own.start();
      // The 4 callers 'open' admitted during the outage are still running: once Redis is back they are leased.
      const c = new Redis(own.url);
      try {
        // Redis holds the leases before this process has read the reply that says so: wait for both.
        expect(await until(async () => (await c.zcard(open.leases.key)) === 4 && open.stats().held === 4, 2000)).toBe(true);
        expect(open.stats()).toMatchObject({ mode: 'shared', held: 4, inFlight: 4 });
      } finally {
        c.disconnect();
      }
    } finally {
      await redis.close();
      await own.dispose();
    }
  });
});

describe.skipIf(!can)('unreachable at start', () => {
  it('starts in its failure mode, says why, and shares once Redis comes up', async () => {
    const port = await freePort();
    const redis = await RedisStore.connect({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 300, timeoutMs: 500, probeMs: 300 });
    const own = await OwnRedis.startOn(port);
    try {
      expect(redis.health).toBe('fallback');
      expect(redis.lastError).toMatch(/unreachable at start/);
      const rs = redis.rateStore('start', { onStoreError: 'closed' });
      expect((await rs.consume('k', burst10, 1, 0, 0)).allowed).toBe(false);
      expect(await until(async () => (await rs.consume('k', burst10, 1, 0, 0)).allowed, 5000)).toBe(true);
      expect(redis.health).toBe('shared');
    } finally {
      await redis.close();
      await own.dispose();
    }
  });
});
