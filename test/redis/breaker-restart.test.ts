// A shared breaker after its Redis restarted empty (a redis-server of the test's own, stopped by
// SIGKILL to its PID and started again on its port; a key that expired, or a failover to an
// empty replica, are the same): the shared state's epoch starts again from 1. Before, a process
// that had applied epoch 4 ignored every change below it — another process tripping its breaker
// no longer opened this one, until the count passed 4 again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/breaker/index.js';
import { RedisStore } from '../../src/redis/index.js';
import { haveRedisServer, OwnRedis, until } from './servers.js';

const can = haveRedisServer();

describe.skipIf(!can)('a shared breaker across a Redis restarted empty (a Redis of our own, stopped by PID)', () => {
  let own: OwnRedis;
  const stores: RedisStore[] = [];
  beforeAll(async () => {
    own = await OwnRedis.start();
    for (let i = 0; i < 2; i++) stores.push(await RedisStore.connect({ url: own.url, keyPrefix: 'brk:', timeoutMs: 1000, probeMs: 100 }));
  });
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await own?.dispose();
  });

  it("one process's trip opens the other's breaker again after the restart", async () => {
    const [a, b] = [0, 1].map(() => new CircuitBreaker({ name: 'up', openMs: 60_000 }));
    const [sa, sb] = stores.map((s, i) => s.shareBreaker([a, b][i]!, { syncMs: 20 }));
    try {
      // Two openings and closings: the shared state is at epoch 4 and b has applied it.
      for (let i = 0; i < 2; i++) {
        a!.trip();
        expect(await until(() => b!.state === 'open', 3000)).toBe(true);
        a!.reset();
        expect(await until(() => b!.state === 'closed', 3000)).toBe(true);
      }
      await own.stop();
      await own.start(); // empty: no persistence
      // Both stores write again (a probe each), then a trips.
      expect(await until(() => stores.every((s) => s.health === 'shared'), 5000)).toBe(true);
      a!.trip();
      expect(await until(() => b!.state === 'open', 3000)).toBe(true);
      // And a closing after it is shared too.
      a!.reset();
      expect(await until(() => b!.state === 'closed', 3000)).toBe(true);
    } finally {
      sa!.close();
      sb!.close();
    }
  });
});
