// Two gateways share a fixed concurrency limit (4) through `store:` ('local' mode, 2 instances,
// a share of 2 each) and hold it unevenly when the Redis goes away: a runs 3 long requests on
// its leases, b runs 1. Each then follows the failure mode — but a's third request still runs
// on a lease the store granted it, and until it ends b may not take its whole share: in flight
// at the upstream (counted there, outside sluice) stays within the limit across the switch. The
// test's own redis-server, stopped by PID.
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway/index.js';
import { cleanup, get, sleep } from '../gateway/helpers.js';
import { countingUpstream, gatewayPair } from './gateway-pair.js';
import { haveRedisServer, OwnRedis, until } from './servers.js';

const can = haveRedisServer();
afterEach(cleanup);

describe.skipIf(!can)('store: the switch to the local share of a fixed concurrency limit two gateways hold unevenly', () => {
  it('in flight at the upstream stays within the limit while leased work above a share still runs', async () => {
    const own = await OwnRedis.start();
    const up = await countingUpstream();
    up.measure();
    try {
      const [a, b] = await gatewayPair(up.url, own.url);
      const answers: Promise<{ status: number }>[] = [get(`${b.url}/?ms=4000`)];
      expect(await until(() => up.inFlight() === 1, 5000)).toBe(true);
      for (let i = 0; i < 3; i++) answers.push(get(`${a.url}/?ms=4000`));
      expect(await until(() => up.inFlight() === 4, 5000)).toBe(true);
      await own.stop();
      const away = (g: Gateway): boolean => g.status().store?.health === 'fallback';
      // Each finds the store away at its next lease call or renewal.
      for (let i = 0; i < 2; i++) answers.push(get(`${a.url}/?ms=1000`), get(`${b.url}/?ms=1000`));
      expect(await until(() => away(a) && away(b), 5000)).toBe(true);
      await sleep(300);
      const peak = up.peak();
      expect((await Promise.all(answers)).map((r) => r.status)).toEqual(answers.map(() => 200));
      expect(peak).toBe(4);
      expect(up.peak()).toBeLessThanOrEqual(4);
    } finally {
      await own.dispose();
    }
  }, 30_000);
});
