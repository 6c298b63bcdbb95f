// The store's health while a master of a real Redis Cluster is down (scripts/redis/cluster.sh on
// free ports, cluster-require-full-coverage off so the other masters serve on; every server
// stopped by PID). Decisions come for tenants on every master. Before, the breaker's half-open
// probe was whichever call came first — a decision on a master that was up — so its success
// closed the breaker: health flapped to 'shared' ('store back' logged, /readyz ready, /status
// shared) while a third of the decisions failed, then to 'fallback' again, every probe period.
// Now only the store's probe, a write on every master, closes it: 'fallback' for the whole
// outage, 'shared' once the master is back.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ratePolicy } from '../../src/rate/index.js';
import { RedisStore } from '../../src/redis/index.js';
import type { StoreHealth } from '../../src/redis/store-guard.js';
import { tenantsByMaster, useScriptCluster } from './script-cluster.js';
import { haveRedisServer, until } from './servers.js';

const can = haveRedisServer();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!can)('Redis Cluster (3 masters), one master down: what the store says it does', () => {
  const cluster = useScriptCluster('cluster-health', false);

  it("'fallback' from the first failures until the master is back, every decision meanwhile by onStoreError; then 'shared'", async () => {
    const ports = cluster.ports();
    const store = await RedisStore.connect({ url: `redis://127.0.0.1:${ports[0]}`, cluster: true, keyPrefix: 'chealth:', timeoutMs: 1000, probeMs: 300, failures: 3 });
    const rs = store.rateStore('h', { onStoreError: 'closed' });
    const policy = ratePolicy({ algorithm: 'gcra', rate: 1_000_000, burst: 1_000_000, name: 'h' });
    // Three tenants per master.
    const { tenants, ownerOf } = await tenantsByMaster(ports, (t) => rs.keyOf(t, policy), 3);
    expect(tenants).toHaveLength(9);
    const down = ports[2]!;
    const onDown = tenants.filter((t) => ownerOf(t) === down);
    const round = async (): Promise<{ shared: number; unavailable: number }> => {
      const ds = await Promise.all(tenants.map((t) => rs.consume(t, policy, 1, 0, 0)));
      const unavailable = ds.filter((d) => d.unavailable === true).length;
      return { shared: ds.length - unavailable, unavailable };
    };
    let restarted: ReturnType<typeof spawn> | undefined;
    try {
      expect(await round()).toEqual({ shared: 9, unavailable: 0 });
      const changes: StoreHealth[] = [];
      store.onHealth((h) => changes.push(h));
      const pidFile = join(cluster.dir, 'pid.2');
      process.kill(cluster.pid(2), 'SIGKILL');
      // Rounds of decisions every 10 ms over several probe periods (a decision is then the first
      // call after each open time): while health says 'shared', none may be refused for the store
      // — and it must not say 'shared' while the master is down.
      const sharedButRefused: number[] = [];
      const end = performance.now() + 3000;
      for (let i = 0; i < 300 && performance.now() < end; i++) {
        const before = store.health;
        const r = await round();
        if (before === 'shared' && store.health === 'shared' && r.unavailable > 0) sharedButRefused.push(r.unavailable);
        await sleep(10);
      }
      // Before: ['fallback', 'shared', 'fallback', 'shared', ...], each 'shared' a decision on a master that was up.
      expect(changes).toEqual(['fallback']);
      expect(store.health).toBe('fallback');
      expect(store.lastError).toBeDefined();
      expect(sharedButRefused.length).toBeLessThanOrEqual(1); // the round the first failures came in
      // The master back on its port, with its nodes.conf: the cluster serves every slot again.
      const dir = join(cluster.dir, 'n2');
      restarted = spawn('redis-server', ['--port', String(down), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-node-timeout', '2000', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
      writeFileSync(pidFile, String(restarted.pid)); // cluster.sh stop kills it by this PID
      expect(await until(() => store.health === 'shared', 30_000)).toBe(true);
      expect(changes).toEqual(['fallback', 'shared']);
      const back = await Promise.all(onDown.map((t) => rs.consume(t, policy, 1, 0, 0)));
      expect(back.every((d) => d.unavailable !== true && d.allowed)).toBe(true);
    } finally {
      await store.close();
    }
  }, 120_000);
});
