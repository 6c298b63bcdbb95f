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
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ratePolicy } from '../../src/rate/index.js';
import { RedisStore } from '../../src/redis/index.js';
import { keySlot } from '../../src/redis/keys.js';
import type { StoreHealth } from '../../src/redis/store-guard.js';
import { root } from '../gateway/helpers.js';
import { haveRedisServer, until } from './servers.js';

const can = haveRedisServer();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!can)('Redis Cluster (3 masters), one master silent (SIGSTOP)', () => {
  const state = mkdtempSync(join(tmpdir(), 'sluice-cluster-silent-'));
  const clusterState = join(state, 'c');
  const env = { ...process.env, SLUICE_REDIS_CLUSTER_STATE: clusterState };
  const script = join(root, 'scripts/redis/cluster.sh');
  let ports: number[] = [];
  let stopped: number | undefined;

  beforeAll(() => {
    execFileSync('bash', [script, 'start'], { env, encoding: 'utf8', timeout: 60_000 });
    ports = readFileSync(join(clusterState, 'ports'), 'utf8').trim().split(/\s+/).map(Number);
    for (const p of ports) execFileSync('redis-cli', ['-p', String(p), 'config', 'set', 'cluster-require-full-coverage', 'no'], { encoding: 'utf8' });
  }, 90_000);
  afterAll(() => {
    if (stopped !== undefined) process.kill(stopped, 'SIGCONT');
    execFileSync('bash', [script, 'stop'], { env, encoding: 'utf8' });
    rmSync(state, { recursive: true, force: true });
  });

  it("opens the breaker after `failures` timeouts on that master, answers by onStoreError at once meanwhile, and is 'shared' again after SIGCONT", async () => {
    const timeoutMs = 300;
    const probeMs = 200;
    const store = await RedisStore.connect({ url: `redis://127.0.0.1:${ports[0]}`, cluster: true, keyPrefix: 'csilent:', timeoutMs, probeMs, failures: 3 });
    const seed = new Redis(ports[0]!, '127.0.0.1');
    const owners = new Map<number, number>();
    for (const [lo, hi, [, port]] of (await seed.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][]) for (let s = lo; s <= hi; s++) owners.set(s, port);
    seed.disconnect();
    const rs = store.rateStore('s', { onStoreError: 'closed' });
    const policy = ratePolicy({ algorithm: 'gcra', rate: 1_000_000, burst: 1_000_000, name: 's' });
    const ownerOf = (t: string): number | undefined => owners.get(keySlot(rs.keyOf(t, policy)));
    // Two tenants per master.
    const tenants = ports.flatMap((port) => Array.from({ length: 400 }, (_x, i) => `t${i}`).filter((t) => ownerOf(t) === port).slice(0, 2));
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
      stopped = Number(readFileSync(join(clusterState, 'pid.2'), 'utf8'));
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
