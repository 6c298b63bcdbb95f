// A fixed concurrency limit leased from the store (`store:`, `onStoreError: closed`) while
// Redis is away: refused as the rate limits are — 503 store_unavailable with Retry-After,
// logged and counted as the store's — not `concurrency`, which would blame a full limit.
// Each test runs a redis-server of its own and stops it by PID.
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/gateway/index.js';
import type { Gateway, GatewayConfig } from '../../src/gateway/index.js';
import { JsonLogger } from '../../src/gateway/logger.js';
import { cleanup, deadPort, get, oneRoute, onCleanup, upstream } from '../gateway/helpers.js';
import { haveRedisServer, OwnRedis, until } from './servers.js';

const can = haveRedisServer();
afterEach(cleanup);

type Reply = Awaited<ReturnType<typeof get>>;

const closedStore = (url: string, up: string): GatewayConfig => ({
  ...oneRoute(up, '5s'),
  store: { url, onStoreError: 'closed', timeout: '250ms' },
  policies: { p: { concurrency: 2 } },
  routes: [{ path: '/', upstream: 'app', policy: 'p' }],
});

/** A gateway whose log lines are kept. */
async function logged(config: GatewayConfig): Promise<{ gw: Gateway; lines: Record<string, unknown>[] }> {
  const lines: Record<string, unknown>[] = [];
  const gw = await startGateway(config, { logger: new JsonLogger('info', (l) => lines.push(JSON.parse(l) as Record<string, unknown>)) });
  onCleanup(() => gw.close());
  return { gw, lines };
}

function expectStoreRefusal(r: Reply): void {
  expect(r.status).toBe(503);
  expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(JSON.parse(r.body)).toMatchObject({ status: 503, reason: 'store_unavailable' });
}

describe.skipIf(!can)('store: onStoreError closed, a fixed concurrency limit', () => {
  it('Redis killed: refused 503 store_unavailable (never concurrency), logged and counted as the store’s; admitted again once Redis is back', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const own = await OwnRedis.start();
    try {
      const { gw, lines } = await logged(closedStore(own.url, up.url));
      expect((await get(gw.url)).status).toBe(200); // a slot leased from Redis
      await own.stop(); // SIGKILL by PID
      // The slots leased before the kill serve until the store's breaker opens; from then on every request is refused.
      const seen: Reply[] = [];
      expect(
        await until(async () => {
          const r = await get(gw.url);
          seen.push(r);
          return r.status !== 200;
        }, 10_000),
      ).toBe(true);
      for (let i = 0; i < 3; i++) seen.push(await get(gw.url));
      const refusals = seen.filter((r) => r.status !== 200);
      expect(refusals.length).toBeGreaterThanOrEqual(4);
      for (const r of refusals) expectStoreRefusal(r);
      const st = gw.status();
      expect(st.counters.storeUnavailable).toBe(refusals.length);
      expect(st.policies[0]!.gates[0]!.rejected).toMatchObject({ store_unavailable: refusals.length, concurrency: 0 });
      const metrics = await gw.metrics();
      expect(metrics).toMatch(new RegExp(`^sluice_store_unavailable_total ${refusals.length}$`, 'm'));
      expect(metrics).toMatch(new RegExp(`^sluice_rejections_total\\{[^}]*kind="concurrency",reason="store_unavailable"\\} ${refusals.length}$`, 'm'));
      expect(metrics).not.toMatch(/^sluice_rejections_total\{[^}]*reason="concurrency"/m);

      await own.start(); // the same port
      expect(await until(async () => (await get(gw.url)).status === 200, 10_000)).toBe(true);
      await gw.close(); // flushes the rejection log
      const rejected = lines.filter((l) => l['msg'] === 'rejected');
      expect(rejected.length).toBeGreaterThan(0);
      for (const l of rejected) expect(l).toMatchObject({ reason: 'store_unavailable', status: 503 });
    } finally {
      await own.dispose();
    }
  });

  it('Redis unreachable at start: the gateway starts, refuses 503 store_unavailable, and admits once Redis answers', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const port = await deadPort();
    const { gw } = await logged(closedStore(`redis://127.0.0.1:${port}`, up.url));
    const own = { redis: undefined as OwnRedis | undefined };
    try {
      expectStoreRefusal(await get(gw.url));
      expect(gw.status().policies[0]!.gates[0]!.rejected).toMatchObject({ store_unavailable: 1, concurrency: 0 });
      own.redis = await OwnRedis.startOn(port);
      expect(await until(async () => (await get(gw.url)).status === 200, 10_000)).toBe(true);
    } finally {
      await own.redis?.dispose();
    }
  });
});

describe.skipIf(!can)('store: onStoreError open and local, a fixed concurrency limit, Redis unreachable at start', () => {
  it.each([
    ['local (the default): this gateway’s share, ⌊4 / 2 instances⌋', { onStoreError: 'local' as const, instances: 2 }, 4, 2],
    ['open: the whole limit', { onStoreError: 'open' as const }, 2, 2],
  ])('%s is admitted, leased or not — not every request refused', async (_name, mode, limit, admitted) => {
    const held: ServerResponse[] = [];
    const up = await upstream((_req, res) => held.push(res));
    const port = await deadPort();
    const { gw } = await logged({
      ...oneRoute(up.url, '5s'),
      store: { url: `redis://127.0.0.1:${port}`, timeout: '250ms', ...mode },
      policies: { p: { concurrency: limit } },
      routes: [{ path: '/', upstream: 'app', policy: 'p' }],
    });
    const replies = Array.from({ length: admitted }, () => get(gw.url));
    expect(await until(() => held.length === admitted, 10_000)).toBe(true);
    // One more than the mode admits: refused for a full limit, as without a store.
    const over = await get(gw.url);
    expect(over.status).toBe(503);
    expect(JSON.parse(over.body)).toMatchObject({ reason: 'concurrency' });
    for (const res of held) res.end('ok');
    expect((await Promise.all(replies)).map((r) => r.status)).toEqual(Array(admitted).fill(200));
    expect(held).toHaveLength(admitted);
  });
});
