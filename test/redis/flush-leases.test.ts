// The gateway's Redis slot store after Redis loses its data (FLUSHALL): two gateways share a
// fixed concurrency limit of 8 through a redis-server this file starts on a free port (no
// persistence) and stops by PID. Their slots are all busy with long requests and more wait in
// their queues when Redis is flushed. Counted at the upstream, outside sluice: in flight never
// goes above 8 — before the fence, the gateways leased against the empty count while the
// leased work ran on, up to twice the limit — and every request is served once the long ones end.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../src/gateway/index.js';
import { cleanup, get, oneRoute, sleep, startInProcess, upstream } from '../gateway/helpers.js';
import { haveRedisServer, OwnRedis, until } from './servers.js';

const can = haveRedisServer();
afterEach(cleanup);

const LIMIT = 8;

describe.skipIf(!can)('gateway slot leases when Redis loses its data', () => {
  it('FLUSHALL under full load: in flight at the upstream never above the limit, and every request served', async () => {
    const own = await OwnRedis.start();
    const raw = new Redis(own.url);
    try {
      // The upstream holds every request until `release`; it counts them itself.
      const held: ServerResponse[] = [];
      const count = { now: 0, max: 0, served: 0 };
      let releasing = false;
      const up = await upstream((_req: IncomingMessage, res: ServerResponse) => {
        count.now++;
        count.max = Math.max(count.max, count.now);
        res.on('finish', () => {
          count.now--;
          count.served++;
        });
        if (releasing) res.end('ok');
        else held.push(res);
      });
      const config: GatewayConfig = oneRoute(up.url, '60s', {
        // A long store timeout: a call late on a busy host, decided by the failure mode, is not the test's point.
        store: { url: own.url, instances: 2, timeout: '10s' },
        policies: { p: { concurrency: { limit: LIMIT, queue: 100, queueTimeout: '60s' } } },
        routes: [{ path: '/', upstream: 'app', policy: 'p' }],
      });
      const [a, b] = [await startInProcess(config), await startInProcess(config)];
      // 12 requests to each gateway: 8 reach the upstream, the rest wait in the gateways' queues.
      const replies = [a, b].flatMap((gw) => Array.from({ length: 12 }, () => get(gw.url)));
      expect(await until(async () => count.now === LIMIT, 10_000)).toBe(true);
      await sleep(300);
      expect(count.max).toBe(LIMIT);

      await raw.flushall();
      // Both gateways keep asking for slots (their queues wait) and renew every TTL / 3 (5 s TTL):
      // wait through more than two renewals (4 s at least, and until the lease data is back in
      // Redis: both gateways' work counted — renewals run late on a busy host), counting at the
      // upstream all along.
      const flushed = Date.now();
      const leasesBack = async (): Promise<boolean> => {
        const key = (await raw.keys('*:leases'))[0];
        return key !== undefined && (await raw.zcard(key)) === LIMIT;
      };
      expect(await until(async () => Date.now() - flushed >= 4000 && (await leasesBack()), 30_000)).toBe(true);
      expect(count.max).toBe(LIMIT);
      expect(count.now).toBe(LIMIT);

      // The long requests end: the queued ones are served (after the fence), never more than 8 at a time.
      releasing = true;
      for (const res of held.splice(0)) res.end('ok');
      const statuses = (await Promise.all(replies)).map((r) => r.status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(24);
      expect(count.max).toBe(LIMIT);
      expect(count.served).toBe(24);
    } finally {
      raw.disconnect();
      await cleanup();
      await own.dispose();
    }
  }, 90_000);
});
