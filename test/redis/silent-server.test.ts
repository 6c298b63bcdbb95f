// A server that accepts the store's TCP connection and never answers (a proxy whose Redis is
// gone, a host that vanished after the handshake, something else than Redis on the port):
// ioredis's connectTimeout ends at the TCP connect, so its ready check waited on that
// connection for good — the store stayed in its failure mode, saying 'no connection', long
// after a Redis answered on the same port. A listener of the test's own, then a redis-server
// of the test's own on its port (killed by PID).
import type { Socket } from 'node:net';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/redis/index.js';
import { freePort, haveRedisServer, OwnRedis, until } from './servers.js';

const can = haveRedisServer();

describe.skipIf(!can)('a server that accepts the connection and never answers', () => {
  let own: OwnRedis | undefined;
  let store: RedisStore | undefined;
  const held: Socket[] = [];
  afterAll(async () => {
    await store?.close();
    for (const s of held) s.destroy();
    await own?.dispose();
  });

  it('is named at start, and the store is shared once a Redis answers on that port', async () => {
    const port = await freePort();
    const silent = createServer((s) => void held.push(s));
    await new Promise<void>((r) => silent.listen(port, '127.0.0.1', () => r()));
    store = await RedisStore.connect({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 500, timeoutMs: 200, probeMs: 100 });
    expect(store.health).toBe('fallback');
    expect(store.lastError).toMatch(/TCP connected, no reply within 500 ms/);
    expect(held.length).toBeGreaterThan(0);
    // The silent server stops listening; the connections it took stay open and silent (as a
    // vanished host's do until TCP gives up, minutes later). A Redis takes the port.
    silent.close(); // its callback comes only once the connections it took end
    own = await OwnRedis.startOn(port);
    expect(await until(() => store!.health === 'shared', 5000)).toBe(true);
    expect(store.client.status).toBe('ready');
  });
});
