// A start that fails to listen gives back what it opened before (gateway-edges): the store's
// connection to Redis stayed open, reconnecting, and kept the failed process alive.
import { createServer, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/gateway/index.js';
import { cleanup, onCleanup, oneRoute, upstream, within } from './helpers.js';

afterEach(cleanup);

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const redisPort = Number(new URL(REDIS_URL).port || 6379);
/** This process's open sockets to Redis's port (node's list of live handles). */
const toRedis = (): number => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().filter((h) => h instanceof Socket && !h.destroyed && h.remotePort === redisPort).length;

describe('a gateway with a store that cannot listen', () => {
  it.each(['the proxy', 'the admin'])('rejects with the listen error and leaves no connection open (%s port taken)', async (which) => {
    const up = await upstream((_req, res) => res.end('ok'));
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    onCleanup(() => new Promise<void>((r) => taken.close(() => r())));
    const port = (taken.address() as AddressInfo).port;
    expect(toRedis()).toBe(0);
    const config = oneRoute(up.url, '2s', {
      ...(which === 'the proxy' ? { listen: { host: '127.0.0.1', port } } : { admin: { host: '127.0.0.1', port } }),
      store: { url: REDIS_URL },
      policies: { p: { concurrency: 4, rateLimits: [{ rate: '10/s' }] } },
      routes: [{ path: '/', policy: 'p' }],
    });
    await expect(startGateway(config, { logger: silent })).rejects.toThrow(/EADDRINUSE/);
    // A closing socket leaves the list within a loop turn or two; one left open stays there.
    await within(10_000, () => toRedis() === 0);
    expect(toRedis()).toBe(0);
  });
});
