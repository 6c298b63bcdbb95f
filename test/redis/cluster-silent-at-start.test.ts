// A Redis Cluster (3 masters, scripts/redis/cluster.sh on free ports, every server stopped by PID)
// one master of which is already silent when the store connects (SIGSTOP before connect: a frozen
// Redis, a host gone after the handshake), the others serving (cluster-require-full-coverage no).
// The store must start in its failure mode and say which master ('unreachable at start' in
// lastError, which the gateway logs and /readyz shows), answer at once by onStoreError meanwhile,
// and be shared again within 2 s of the master answering.
import { afterAll, describe, expect, it } from 'vitest';
import { ratePolicy } from '../../src/rate/index.js';
import { RedisStore } from '../../src/redis/index.js';
import { tenantsByMaster, useScriptCluster } from './script-cluster.js';
import { haveRedisServer, until } from './servers.js';

const can = haveRedisServer();

describe.skipIf(!can)('Redis Cluster (3 masters), one master silent before the store connects', () => {
  const cluster = useScriptCluster('cluster-silent-start', false);
  let stopped: number | undefined;
  let store: RedisStore | undefined;
  // Runs before the script's stop (the last hook registered runs first).
  afterAll(async () => {
    if (stopped !== undefined) process.kill(stopped, 'SIGCONT');
    await store?.close();
  });

  it("starts in the failure mode naming the silent master, and is 'shared' within 2 s of it answering", async () => {
    const ports = cluster.ports();
    const silent = ports[2]!;
    stopped = cluster.pid(2);
    process.kill(stopped, 'SIGSTOP');
    const s = (store = await RedisStore.connect({ url: `redis://127.0.0.1:${ports[0]}`, cluster: true, keyPrefix: 'csstart:', timeoutMs: 300, probeMs: 200, failures: 3 }));
    // Before: 'shared' — the seed answered, and a third of the decisions waited out the timeout until three had.
    expect(s.health).toBe('fallback');
    expect(s.lastError).toContain('unreachable at start');
    expect(s.lastError).toContain(`127.0.0.1:${silent}`);
    const rs = s.rateStore('s', { onStoreError: 'closed' });
    const policy = ratePolicy({ algorithm: 'gcra', rate: 1_000_000, burst: 1_000_000, name: 's' });
    const { tenants, ownerOf } = await tenantsByMaster(ports, (t) => rs.keyOf(t, policy), 2);
    expect(tenants).toHaveLength(6);
    // Meanwhile every decision is the failure mode's, at once: nothing waits on the silent master.
    const sentBefore = s.guard.stats().timedOut;
    const during = await Promise.all(tenants.map((t) => rs.consume(t, policy, 1, 0, 0)));
    expect(during.map((d) => d.unavailable === true)).toEqual(tenants.map(() => true));
    expect(s.guard.stats().timedOut - sentBefore).toBeLessThanOrEqual(1); // a probe at most
    process.kill(stopped, 'SIGCONT');
    stopped = undefined;
    const at = performance.now();
    expect(await until(() => s.health === 'shared', 5000)).toBe(true);
    const took = performance.now() - at;
    expect(took, `shared again ${Math.round(took)} ms after SIGCONT`).toBeLessThan(2000);
    // Every master's decisions are Redis's again (a decision that times out on the busy host is retried).
    let after: string[] = [];
    const round = async (): Promise<boolean> => {
      after = (await Promise.all(tenants.map((t) => rs.consume(t, policy, 1, 0, 0)))).map((d, i) => `${ownerOf(tenants[i]!)}:${d.unavailable === true ? 'fallback' : 'shared'}`);
      return after.every((a) => a.endsWith(':shared'));
    };
    expect(await until(round, 3000), after.join(' ')).toBe(true);
    expect(s.health).toBe('shared');
  }, 60_000);
});
