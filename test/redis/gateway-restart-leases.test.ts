// Two gateways share a fixed concurrency limit through `store:` ('local' mode, 2 instances). A
// Redis without persistence is killed mid-run and started again empty: while it is away each
// gateway admits its share; once it is back, in flight at the upstream — counted there, outside
// sluice — is within the limit again once every holder has renewed, though one gateway keeps
// requests queued the whole time. The test's own redis-server, stopped by PID.
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway/index.js';
import { cleanup, get, sleep } from '../gateway/helpers.js';
import { countingUpstream, gatewayPair } from './gateway-pair.js';
import { haveRedisServer, OwnRedis, until } from './servers.js';

const can = haveRedisServer();
afterEach(cleanup);

describe.skipIf(!can)('store: Redis restarted empty under a fixed concurrency limit two gateways share', () => {
  it("in local mode: once shared again, neither gateway keeps more in flight than its leases — the upstream sees at most the limit", async () => {
    const own = await OwnRedis.start();
    const up = await countingUpstream();
    try {
      const [a, b] = await gatewayPair(up.url, own.url);
      await get(`${b.url}/?ms=10`);
      // a takes the whole limit for long (b gives its first share back: it has no demand).
      const longs = Array.from({ length: 4 }, () => get(`${a.url}/?ms=5000`));
      expect(await until(() => up.inFlight() === 4, 5000)).toBe(true);
      await own.stop();
      let streaming = true;
      const shorts: Promise<unknown>[] = [];
      const stream = (async () => {
        while (streaming) {
          shorts.push(get(`${b.url}/?ms=30`));
          await sleep(25);
        }
      })();
      await sleep(800);
      await own.start();
      const shared = (g: Gateway): boolean => g.status().store?.health === 'shared';
      expect(await until(() => shared(a) && shared(b), 5000)).toBe(true);
      // Every holder renews within a third of the lease time (5 s) after the store is back.
      await sleep(2000);
      up.measure();
      expect((await Promise.all(longs)).map((r) => r.status)).toEqual([200, 200, 200, 200]);
      streaming = false;
      await stream;
      await Promise.all(shorts);
      expect(up.peak()).toBeGreaterThan(0);
      expect(up.peak()).toBeLessThanOrEqual(4);
    } finally {
      await own.dispose();
    }
  }, 30_000);
});
