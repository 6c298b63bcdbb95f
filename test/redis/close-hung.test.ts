// close() of a store whose Redis hangs (SIGSTOP to the PID of a redis-server of the test's own;
// SIGCONT and SIGKILL after): the store's own connection is closed within its timeout, not
// when Redis answers QUIT — which a hung Redis never does: close() never settled, and neither
// did a process's shutdown that awaited it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ratePolicy } from '../../src/rate/index.js';
import { RedisStore } from '../../src/redis/index.js';
import { haveRedisServer, OwnRedis, until } from './servers.js';

const can = haveRedisServer();

describe.skipIf(!can)('closing a store while its Redis hangs (SIGSTOP by PID)', () => {
  let own: OwnRedis;
  beforeAll(async () => {
    own = await OwnRedis.start();
  });
  afterAll(async () => {
    if (own?.pid !== undefined) process.kill(own.pid, 'SIGCONT');
    await own?.dispose();
  });

  it('close() settles within a few timeouts, and the connection is closed', async () => {
    const store = await RedisStore.connect({ url: own.url, timeoutMs: 200, probeMs: 100 });
    const rate = store.rateStore('hung', { onStoreError: 'closed' });
    process.kill(own.pid!, 'SIGSTOP');
    // A decision in flight as the store closes: answered by its failure mode at its timeout.
    const decision = rate.consume('k', ratePolicy({ algorithm: 'gcra', rate: 10, perMs: 1000, burst: 10, name: 'p' }), 1, performance.now(), 0);
    const closed = store.close().then(() => 'closed');
    const late = new Promise((r) => setTimeout(r, 3000, 'still open after 3 s'));
    expect(await Promise.race([closed, late])).toBe('closed');
    expect((await decision).unavailable).toBe(true);
    // Its socket closed at once too (disconnect alone sends a FIN the hung Redis does not answer: 'ready' for 2 s or more).
    expect(await until(() => store.client.status === 'end', 500)).toBe(true);
  });
});
