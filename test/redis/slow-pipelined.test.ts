// A very slow Redis (DEBUG SLEEP on a redis-server of the test's own, stopped by PID after)
// behind a client handed in with auto-pipelining on (and ioredis's defaults otherwise: an
// offline queue, resending): every decision — rate, leased tokens, concurrency — settles by the
// store's timeout and its failure mode, and the store is shared again once Redis wakes.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ratePolicy } from '../../src/rate/index.js';
import { RedisStore } from '../../src/redis/index.js';
import { haveRedisServer, OwnRedis, until } from './servers.js';

const can = haveRedisServer();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!can)('a slow Redis behind an auto-pipelining client', () => {
  let own: OwnRedis;
  let client: Redis;
  let admin: Redis;
  let store: RedisStore;
  beforeAll(async () => {
    own = await OwnRedis.start(['--enable-debug-command', 'yes']);
    client = new Redis(own.url, { enableAutoPipelining: true });
    client.on('error', () => undefined);
    admin = new Redis(own.url);
    admin.on('error', () => undefined);
    store = await RedisStore.connect({ client, keyPrefix: 'slowpipe:', timeoutMs: 150, probeMs: 100 });
  });
  afterAll(async () => {
    await store?.close();
    client?.disconnect();
    admin?.disconnect();
    await own?.dispose();
  });

  it('decisions made while Redis sleeps 1.5 s settle within the timeout (by the failure mode); shared again after', async () => {
    const rs = store.rateStore('r', { onStoreError: 'open' });
    const closedRs = store.rateStore('c', { onStoreError: 'closed' });
    const policy = ratePolicy({ algorithm: 'gcra', rate: 100, burst: 100 });
    const gate = store.concurrency({ name: 'g', limit: 4, maxQueue: 10, maxWaitMs: 500, onStoreError: 'local' });
    expect((await rs.consume('k', policy, 1, 0, 0)).allowed).toBe(true);
    let awake = false;
    const slept = admin.call('DEBUG', 'SLEEP', '1.5').then(() => (awake = true));
    await sleep(100);
    const settle = async <T>(p: Promise<T>): Promise<boolean> => {
      await p.catch(() => undefined);
      return awake;
    };
    const late = await Promise.all([
      ...Array.from({ length: 20 }, async () => settle(rs.consume('k', policy, 1, 0, 0))),
      ...Array.from({ length: 20 }, async () => settle(closedRs.consume('k', policy, 1, 0, 0))),
      ...Array.from({ length: 6 }, async () =>
        settle(
          Promise.resolve(gate.admit()).then((a) => {
            if (a.ok) a.release();
          }),
        ),
      ),
    ]);
    // All settled while Redis still slept, by the store's timeout (150 ms) and failure modes.
    expect(late.filter(Boolean)).toHaveLength(0);
    expect(awake).toBe(false);
    const open = await rs.consume('k', policy, 1, 0, 0);
    expect(open.allowed).toBe(true); // 'open' while away
    const refused = await closedRs.consume('k', policy, 1, 0, 0);
    expect(refused.allowed).toBe(false);
    await slept;
    expect(await until(() => store.health === 'shared', 2000)).toBe(true);
    expect((await closedRs.consume('k2', policy, 1, 0, 0)).allowed).toBe(true);
    const p = await gate.admit();
    expect(p.ok).toBe(true);
    if (p.ok) p.release();
    expect(await until(() => gate.stats().mode === 'shared', 2000)).toBe(true);
    gate.close();
  });
});
