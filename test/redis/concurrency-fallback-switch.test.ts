// A shared concurrency limit's 'local' fallback at the switch: two processes (two stores) hold
// 3 and 1 of a limit of 4 (instances 2, shares of 2) as Redis goes away. The one holding 3
// keeps running its 3; the other must not rise to its whole share beside them, or 5 run at
// once. Before, SharedConcurrencyGate's local capacity was ⌊limit / instances⌋ whatever the
// others held: the second process admitted a second caller (5 in flight). A redis-server of
// the test's own, stopped by SIGKILL to its PID.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Permit } from '../../src/core/types.js';
import { RedisStore } from '../../src/redis/index.js';
import { haveRedisServer, OwnRedis, until } from './servers.js';

const can = haveRedisServer();

describe.skipIf(!can)("a shared concurrency limit switching to 'local' (a Redis of our own, stopped by PID)", () => {
  let own: OwnRedis;
  const stores: RedisStore[] = [];
  beforeAll(async () => {
    own = await OwnRedis.start();
    for (let i = 0; i < 2; i++) stores.push(await RedisStore.connect({ url: own.url, keyPrefix: 'switch:', timeoutMs: 1000, probeMs: 200, failures: 1 }));
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await own?.dispose();
  });

  it('held 3 and 1 of 4: never more than 4 in flight across both during the outage; the whole share once the work over it ended is not known, so it is kept', async () => {
    const [a, b] = stores.map((s) => s.concurrency({ name: 'sw', limit: 4, onStoreError: 'local', instances: 2 }));
    const held: Permit[] = [];
    const take = async (g: typeof a, n: number): Promise<number> => {
      let got = 0;
      for (let i = 0; i < n; i++) {
        const r = await g!.admit();
        if (r.ok) {
          held.push(r);
          got++;
        }
      }
      return got;
    };
    try {
      expect(await take(a, 3)).toBe(3);
      expect(await take(b, 1)).toBe(1);
      expect(await take(b, 1)).toBe(0); // the limit is full in Redis
      await own.stop();
      // Each tries for more until both are in their failure mode.
      expect(await until(async () => {
        await take(a, 1);
        await take(b, 1);
        return a!.stats().mode === 'fallback' && b!.stats().mode === 'fallback';
      }, 5000)).toBe(true);
      await take(a, 3);
      await take(b, 3);
      const inFlight = a!.inFlight + b!.inFlight;
      expect({ a: a!.inFlight, b: b!.inFlight, inFlight }).toEqual({ a: 3, b: 1, inFlight: 4 });
      // The first process's work ends: it admits up to its share again (2), the other stays at
      // its 1 (nothing says the work over the first one's share has ended).
      for (const p of held.splice(0, 3)) p.release();
      expect(await take(a, 3)).toBe(2);
      expect(await take(b, 2)).toBe(0);
    } finally {
      for (const p of held) p.release();
      a!.close();
      b!.close();
    }
  });
});
