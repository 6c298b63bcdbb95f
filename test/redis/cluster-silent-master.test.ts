// A master of a real Redis Cluster that accepts but never answers (SIGSTOP by PID: a frozen
// Redis, a host gone after the handshake), the other masters serving on
// (cluster-require-full-coverage no), decisions for tenants on every master. Before, the
// breaker counted failures in a row over the store's calls: the other masters' answers between
// the silent one's timeouts reset the count, so it never opened — health 'shared' while a third
// of the decisions each waited the whole timeout, for as long as the master stayed silent. Now
// `failures` in a row on one master open it (store-guard.ts): the failure mode answers at once,
// the store's probe (a write on every master) keeps it 'fallback' until the master answers, and
// it is 'shared' again within a probe period of SIGCONT. scripts/redis/cluster.sh on free ports;
// every server stopped by PID.
import { afterAll, describe, expect, it } from 'vitest';
import { ratePolicy } from '../../src/rate/index.js';
import { RedisStore } from '../../src/redis/index.js';
import type { StoreHealth } from '../../src/redis/store-guard.js';
import { tenantsByMaster, useScriptCluster } from './script-cluster.js';
import { haveRedisServer, until } from './servers.js';

const can = haveRedisServer();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!can)('Redis Cluster (3 masters), one master silent (SIGSTOP)', () => {
  const cluster = useScriptCluster('cluster-silent', false);
  let stopped: number | undefined;
  // Runs before the script's stop (the last hook registered runs first); SIGKILL would end a stopped server too.
  afterAll(() => {
    if (stopped !== undefined) process.kill(stopped, 'SIGCONT');
  });

  it("opens the breaker after `failures` timeouts on that master, answers by onStoreError at once meanwhile, and is 'shared' again after SIGCONT", async () => {
    const timeoutMs = 300;
    const probeMs = 200;
    const ports = cluster.ports();
    const store = await RedisStore.connect({ url: `redis://127.0.0.1:${ports[0]}`, cluster: true, keyPrefix: 'csilent:', timeoutMs, probeMs, failures: 3 });
    const rs = store.rateStore('s', { onStoreError: 'closed' });
    const policy = ratePolicy({ algorithm: 'gcra', rate: 1_000_000, burst: 1_000_000, name: 's' });
    // Two tenants per master.
    const { tenants, ownerOf } = await tenantsByMaster(ports, (t) => rs.keyOf(t, policy), 2);
    expect(tenants).toHaveLength(6);
    const silent = ports[2]!;
    const onSilent = tenants.filter((t) => ownerOf(t) === silent);
    const round = async (): Promise<number> => (await Promise.all(tenants.map((t) => rs.consume(t, policy, 1, 0, 0)))).filter((d) => d.unavailable === true).length;
    try {
      expect(await round()).toBe(0);
      const changes: StoreHealth[] = [];
      const causes: (string | undefined)[] = [];
      store.onHealth((h, cause) => {
        changes.push(h);
        causes.push(cause);
      });
      stopped = cluster.pid(2);
      process.kill(stopped, 'SIGSTOP');
      // Rounds of decisions, each waiting for the last, over several timeouts and probe periods.
      let roundsShared = 0;
      for (let i = 0; i < 12; i++) {
        await round();
        if (store.health === 'shared') roundsShared++;
        await sleep(50);
      }
      // Before: [] — 'shared' all along, every round losing its silent master's decisions to a timeout.
      expect(changes).toEqual(['fallback']);
      expect(roundsShared).toBeLessThanOrEqual(3); // the rounds whose timeouts open it: 2 calls on the silent master each
      expect(causes[0]).toMatch(new RegExp(`no answer within ${timeoutMs} ms \\(master 127\\.0\\.0\\.1:${silent}: 3 calls in a row failed\\)`));
      // From then on every decision is the failure mode's ('closed'), answered without a call.
      const s = store.guard.stats();
      expect(s.timedOut).toBeGreaterThanOrEqual(3);
      expect(s.shortCircuited).toBeGreaterThan(0);
      expect(await round()).toBe(tenants.length);
      expect(store.guard.stats().timedOut).toBeLessThanOrEqual(s.timedOut + 1); // at most a probe's
      process.kill(stopped, 'SIGCONT');
      stopped = undefined;
      const thawed = performance.now();
      // Documented: shared again within a probe period (plus the probe's round trip) of the master answering.
      expect(await until(() => store.health === 'shared', 10_000)).toBe(true);
      const ms = performance.now() - thawed;
      expect(changes).toEqual(['fallback', 'shared']);
      const back = await Promise.all(onSilent.map((t) => rs.consume(t, policy, 1, 0, 0)));
      expect(back.every((d) => d.unavailable !== true && d.allowed)).toBe(true);
      console.log(`cluster-silent-master: shared again ${Math.round(ms)} ms after SIGCONT (probeMs ${probeMs}, timeoutMs ${timeoutMs})`);
    } finally {
      await store.close();
    }
  }, 120_000);
});
