// A slow Redis (DEBUG SLEEP on a redis-server of the test's own, stopped by PID after): a lease
// call that timed out at the client still runs in Redis once it wakes. The ids it granted are
// held by nobody here — not renewed, not given back — and counted against every process until
// their TTL (a minute here): before, the limit lost those slots for the whole TTL. Now the
// client gives back the ids of an acquire whose answer it never had, at its next call.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/redis/index.js';
import { haveRedisServer, OwnRedis, until } from './servers.js';

const can = haveRedisServer();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A redis-server of the block's own that DEBUG SLEEP may stall, a store on it (timeout 150 ms, breaker after `failures`), and an admin client. */
function sleepyRedis(failures: number): { admin: () => Redis; store: () => RedisStore } {
  let own: OwnRedis | undefined;
  let admin: Redis | undefined;
  let store: RedisStore | undefined;
  beforeAll(async () => {
    own = await OwnRedis.start(['--enable-debug-command', 'yes']);
    admin = new Redis(own.url);
    admin.on('error', () => undefined);
    store = await RedisStore.connect({ url: own.url, keyPrefix: 'orphan:', timeoutMs: 150, probeMs: 100, failures });
  });
  afterAll(async () => {
    await store?.close();
    admin?.disconnect();
    await own?.dispose();
  });
  return { admin: () => admin!, store: () => store! };
}

describe.skipIf(!can)('lease calls that timed out at the client but ran in Redis (a slow Redis of our own)', () => {
  const { admin, store } = sleepyRedis(10);

  it('a shared concurrency gate: the slot its timed-out acquire took in Redis comes back at its next call, not after the TTL', async () => {
    const gate = store().concurrency({ name: 'slow', limit: 4, leaseTtlMs: 60_000, onStoreError: 'closed' });
    const leases = (): Promise<number> => admin().zcard(gate.leases.key);
    try {
      const p = await gate.admit();
      expect(p.ok).toBe(true);
      if (p.ok) p.release();
      expect(await until(async () => (await leases()) === 0, 2000)).toBe(true);
      // Redis sleeps 1 s; the acquire sent meanwhile times out here after 150 ms and runs once it wakes.
      const slept = admin().call('DEBUG', 'SLEEP', '1');
      await sleep(100);
      const r = await gate.admit();
      expect(r.ok).toBe(false);
      await slept;
      expect(gate.stats().held).toBe(0);
      // The next calls (the gate retries the store every 100 ms in its failure mode) give it back.
      expect(await until(async () => (await leases()) === 0 && gate.stats().mode === 'shared', 3000)).toBe(true);
      // And the limit is whole: 4 callers admitted at once.
      const four = await Promise.all([0, 1, 2, 3].map(async () => gate.admit()));
      expect(four.filter((x) => x.ok)).toHaveLength(4);
      for (const x of four) if (x.ok) x.release();
    } finally {
      gate.close();
    }
  });
});

describe.skipIf(!can)('lease give-backs that never reached Redis (the breaker open while it slept)', () => {
  const { admin, store } = sleepyRedis(1);

  it('leased slots (limitStore) given back while the store is away go back at the next call, not after the TTL', async () => {
    const slots = store().limitStore({ leaseTtlMs: 60_000 });
    const c = (): Promise<number> => admin().zcard('orphan:{gw}:leases');
    try {
      expect((await slots.takeSlots('gw', 4, 2)).granted).toBe(2);
      expect(await c()).toBe(2);
      const slept = admin().call('DEBUG', 'SLEEP', '1');
      await sleep(100);
      // Times out (the breaker opens: failures 1), then the give-back is not sent at all.
      await expect(slots.takeSlots('gw', 4, 1)).rejects.toThrow();
      await expect(slots.returnSlots('gw', 2)).rejects.toThrow();
      await slept;
      expect(await until(() => store().health === 'shared', 3000)).toBe(true);
      expect(await c()).toBe(3); // the two never given back, and the one granted to nobody
      // The next call gives back all three.
      expect((await slots.takeSlots('gw', 4, 4)).granted).toBe(4);
      expect(await c()).toBe(4);
      await slots.returnSlots('gw', 4);
      expect(await c()).toBe(0);
    } finally {
      await slots.close();
    }
  });

  it('a reload that changes the limit meanwhile: the give-backs still owed go back with the first call at the new limit', async () => {
    const slots = store().limitStore({ leaseTtlMs: 60_000 });
    const c = (): Promise<number> => admin().zcard('orphan:{gw2}:leases');
    try {
      expect((await slots.takeSlots('gw2', 4, 2)).granted).toBe(2);
      const slept = admin().call('DEBUG', 'SLEEP', '1');
      await sleep(100);
      await expect(slots.takeSlots('gw2', 4, 1)).rejects.toThrow();
      await expect(slots.returnSlots('gw2', 2)).rejects.toThrow();
      await slept;
      expect(await until(() => store().health === 'shared', 3000)).toBe(true);
      expect(await c()).toBe(3);
      // The limit 4 -> 5 (a reload): a new lease client takes over the old one's leases — and what it owes.
      expect((await slots.takeSlots('gw2', 5, 1)).granted).toBe(1);
      expect(await c()).toBe(1);
    } finally {
      await slots.close();
    }
  });
});
