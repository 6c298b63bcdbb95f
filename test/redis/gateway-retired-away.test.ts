// A fixed concurrency limit shared through `store:` whose policy a reload removes while the store
// is away (its Redis frozen by SIGSTOP, the test's own, by PID). The retired lease follows the
// failure mode like the others, and must hear that the store is back like them: then it gives its
// slots back as its requests end and stops. Before, only live leases were told: the retired one
// stayed 'away' for good — it asked nothing, gave nothing back, and the store's renewal timer
// kept its slots leased in Redis for ever, out of every other holder's reach.
import type { Redis } from 'ioredis';
import { Redis as RedisClient } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../src/gateway/index.js';
import { cleanup, get, oneRoute, startInProcess } from '../gateway/helpers.js';
import { countingUpstream } from './gateway-pair.js';
import { haveRedisServer, OwnRedis, until } from './servers.js';

const can = haveRedisServer();
afterEach(cleanup);

/** Leases held in Redis, every limit's (every lease set of the prefix). */
async function leased(raw: Redis): Promise<number> {
  const keys = await raw.keys('retired:*:leases');
  let n = 0;
  for (const k of keys) n += await raw.zcard(k);
  return n;
}

describe.skipIf(!can)('store: a leased concurrency policy removed by a reload while the store is away', () => {
  it('gives its slots back once the store is back and its request ended', async () => {
    const own = await OwnRedis.start();
    const raw = new RedisClient(own.url);
    raw.on('error', () => undefined);
    const up = await countingUpstream();
    let frozen = false;
    try {
      const base = (policy: boolean): GatewayConfig => ({
        ...oneRoute(up.url, '20s'),
        store: { url: own.url, keyPrefix: 'retired:', onStoreError: 'local', instances: 1, timeout: '250ms' },
        ...(policy ? { policies: { p: { concurrency: { limit: 2, queue: 10, queueTimeout: '10s' } } }, routes: [{ path: '/', upstream: 'app', policy: 'p' }] } : { routes: [{ path: '/', upstream: 'app' }] }),
      });
      const gw = await startInProcess(base(true));
      // The first share (2 of 2) is leased at start.
      expect(await until(async () => (await leased(raw)) === 2, 5000)).toBe(true);
      const long = get(`${gw.url}/?ms=2500`);
      expect(await until(() => up.inFlight() === 1, 5000)).toBe(true);
      process.kill(own.pid!, 'SIGSTOP');
      frozen = true;
      // A request and the lease's own calls time out: the store goes away.
      const during = get(`${gw.url}/?ms=10`);
      expect(await until(() => gw.status().store?.health === 'fallback', 8000)).toBe(true);
      expect((await during).status).toBe(200);
      // The policy is removed: its lease retires with the store away.
      await gw.reload(base(false));
      process.kill(own.pid!, 'SIGCONT');
      frozen = false;
      expect(await until(() => gw.status().store?.health === 'shared', 8000)).toBe(true);
      expect((await long).status).toBe(200);
      // Its request ended and the store is back: the retired lease gives both slots back.
      // Before: 2 leased for good (renewed every TTL / 3 by the store's timer).
      const back = await until(async () => (await leased(raw)) === 0, 8000);
      expect(back, `still leased: ${await leased(raw)}`).toBe(true);
    } finally {
      if (frozen) process.kill(own.pid!, 'SIGCONT');
      raw.disconnect();
      await own.dispose();
    }
  }, 45_000);
});
