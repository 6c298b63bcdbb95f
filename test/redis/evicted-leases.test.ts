// A concurrency limit's lease set evicted alone (deleted here, as a full Redis under an
// eviction policy would) while one process runs the whole limit: a process that never called
// before asks first. Before, it was granted the lost leases' slots at once (5 in flight on a
// limit of 4: its first call began the new epoch unfenced, having no epoch of its own to prove
// the loss; the holder's renewal fenced it only after). Now the new epoch is fenced from its
// start when the lease set vanished while live. A redis-server of the test's own, stopped by PID.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Permit } from '../../src/core/types.js';
import { RedisStore } from '../../src/redis/index.js';
import { haveRedisServer, OwnRedis, until } from './servers.js';

const can = haveRedisServer();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!can)('a lease set evicted under running work (a Redis of our own)', () => {
  let own: OwnRedis;
  let raw: Redis;
  const stores: RedisStore[] = [];
  beforeAll(async () => {
    own = await OwnRedis.start();
    raw = new Redis(own.url);
    for (let i = 0; i < 2; i++) stores.push(await RedisStore.connect({ url: own.url, keyPrefix: 'ev:', timeoutMs: 1000 }));
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    raw?.disconnect();
    await own?.dispose();
  });

  it('a newcomer is granted nothing while the holder runs the whole limit: in flight never above it', async () => {
    const [a, b] = stores.map((s) => s.concurrency({ name: 'e', limit: 4, leaseTtlMs: 3000 }));
    const held: Permit[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const p = await a!.admit();
        if (p.ok) held.push(p);
      }
      expect(held).toHaveLength(4);
      await raw.del(a!.leases.key);
      // For longer than the fence (a TTL): the holder renews within a third of it, its 4 back.
      const admitted: number[] = [];
      const t0 = performance.now();
      while (performance.now() - t0 < 4000) {
        const p = await b!.admit();
        if (p.ok) {
          admitted.push(Math.round(performance.now() - t0));
          p.release();
        }
        await sleep(50);
      }
      expect(admitted).toEqual([]);
      expect(await raw.zcard(a!.leases.key)).toBe(4);
      // The holder's work ends: the newcomer gets slots again.
      for (const p of held.splice(0)) p.release();
      const again = async (): Promise<boolean> => {
        const p = await b!.admit();
        if (p.ok) p.release();
        return p.ok;
      };
      expect(await until(again, 3000)).toBe(true);
    } finally {
      for (const p of held) p.release();
      a!.close();
      b!.close();
    }
  });
});
