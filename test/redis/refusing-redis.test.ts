// A Redis that answers PING but refuses every decision — OOM (a full Redis under noeviction),
// READONLY (a replica, after a failover pointed the store at it) — against redis-servers this
// file starts itself and stops by PID. Its errors are outages (docs/redis.md), and the store
// stays in its failure mode until a decision can be written again. Its probe was a PING, which
// these servers answer: each probe said the store was back, the next decisions failed again,
// and health flapped between shared and fallback, a 'store back' and a 'store unavailable'
// line each time (17 lines in 5 s of a gateway against a full Redis).
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ratePolicy } from '../../src/rate/index.js';
import { RedisStore } from '../../src/redis/index.js';
import type { StoreHealth } from '../../src/redis/store-guard.js';
import { disposeAfterEach, haveRedisServer, OwnRedis, until } from './servers.js';

const can = haveRedisServer();
const policy = ratePolicy({ algorithm: 'gcra', rate: 10, perMs: 60_000, burst: 10, name: 'p' });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const disposers = disposeAfterEach();

async function own(extra: readonly string[] = []): Promise<OwnRedis> {
  const r = await OwnRedis.start(extra);
  disposers.push(() => r.dispose());
  return r;
}

/**
 * A store on `url` deciding every 20 ms for `ms` while the server refuses (after `refuse()`,
 * once a decision was written): the health changes seen, and their causes.
 */
async function whileRefused(url: string, refuse: (() => Promise<void>) | undefined, ms: number): Promise<{ store: RedisStore; changes: StoreHealth[]; errors: string[] }> {
  const store = await RedisStore.connect({ url, timeoutMs: 1000, probeMs: 100, failures: 2 });
  disposers.push(() => store.close());
  const rs = store.rateStore('refused', { onStoreError: 'local' });
  if (refuse !== undefined) expect((await rs.consume('k', policy, 1, performance.now(), 0)).unavailable).not.toBe(true);
  const changes: StoreHealth[] = [];
  const errors: string[] = [];
  store.onHealth((h, cause) => {
    changes.push(h);
    if (cause !== undefined) errors.push(String(cause));
  });
  await refuse?.();
  const end = performance.now() + ms;
  while (performance.now() < end) {
    await rs.consume('k', policy, 1, performance.now(), 0);
    await sleep(20);
  }
  return { store, changes, errors };
}

describe.skipIf(!can)('a Redis that answers PING but refuses decisions', () => {
  it('OOM (maxmemory reached, noeviction): fallback, and it stays there (about 20 probes) until memory is freed', async () => {
    const r = await own();
    const raw = new Redis(r.url);
    disposers.push(async () => raw.disconnect());
    const { store, changes, errors } = await whileRefused(r.url, async () => void (await raw.config('SET', 'maxmemory', '1')), 2000);
    expect(changes).toEqual(['fallback']);
    expect(errors[0]).toContain('OOM');
    expect(store.lastError).toContain('OOM');
    await raw.config('SET', 'maxmemory', '0');
    expect(await until(() => store.health === 'shared', 10_000)).toBe(true);
    expect(changes).toEqual(['fallback', 'shared']);
  }, 30_000);

  it('READONLY (a replica): fallback, and it stays there until the replica is promoted', async () => {
    const primary = await own();
    const replica = await own(['--replicaof', '127.0.0.1', String(primary.port)]);
    const raw = new Redis(replica.url);
    disposers.push(async () => raw.disconnect());
    // The store on a replica: what a failover that left its address on the old primary, now a replica, looks like.
    const { store, changes, errors } = await whileRefused(replica.url, undefined, 2000);
    expect(changes).toEqual(['fallback']);
    expect(errors[0]).toContain('READONLY');
    expect(store.lastError).toContain('READONLY');
    await raw.replicaof('NO', 'ONE');
    expect(await until(() => store.health === 'shared', 10_000)).toBe(true);
    expect(changes).toEqual(['fallback', 'shared']);
  }, 30_000);
});
