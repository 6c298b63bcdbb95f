// A Redis Cluster changing under a shared concurrency limit: its lease keys' slot resharded to
// another master (MOVED, ASK), and its master SIGKILLed so that a replica takes over (the
// cluster of scripts/redis/cluster.sh on free ports, a replica of the test's own, all stopped
// by PID). Two stores' gates keep callers coming throughout: every decision settles, and the
// work in flight — counted here, outside sluice — never goes above the limit.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SharedConcurrencyGate } from '../../src/redis/index.js';
import { RedisStore } from '../../src/redis/index.js';
import { root } from '../gateway/helpers.js';
import { freePort, haveRedisServer, killAndWait, until } from './servers.js';

const can = haveRedisServer();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Callers on every gate until stopped, each holding a slot 5–15 ms: the most in flight at once, outside sluice, and how the decisions went. */
function load(gates: readonly SharedConcurrencyGate[], perGate: number): { peak: () => number; admitted: () => number; refused: Map<string, number>; stop: () => Promise<void> } {
  let stopped = false;
  let now = 0;
  let peak = 0;
  let admitted = 0;
  const refused = new Map<string, number>();
  const work = async (g: SharedConcurrencyGate): Promise<void> => {
    while (!stopped) {
      const a = await g.admit();
      if (a.ok) {
        admitted++;
        peak = Math.max(peak, ++now);
        await sleep(5 + Math.random() * 10);
        now--;
        a.release();
      } else {
        refused.set(a.reason, (refused.get(a.reason) ?? 0) + 1);
        await sleep(10);
      }
    }
  };
  const all = Promise.all(gates.flatMap((g) => Array.from({ length: perGate }, async () => work(g))));
  return {
    peak: () => peak,
    admitted: () => admitted,
    refused,
    stop: async () => {
      stopped = true;
      await all;
    },
  };
}

describe.skipIf(!can)('a Redis Cluster resharded and failed over under a shared concurrency limit', () => {
  const state = mkdtempSync(join(tmpdir(), 'sluice-cluster-moves-'));
  const clusterState = join(state, 'c');
  const env = { ...process.env, SLUICE_REDIS_CLUSTER_STATE: clusterState };
  const script = join(root, 'scripts/redis/cluster.sh');
  let ports: number[] = [];
  let a: RedisStore;
  let b: RedisStore;
  let replica: ChildProcess | undefined;
  const admin = new Map<number, Redis>();
  const node = (port: number): Redis => {
    let c = admin.get(port);
    if (c === undefined) {
      c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, retryStrategy: () => null });
      c.on('error', () => undefined);
      admin.set(port, c);
    }
    return c;
  };
  const idOf = async (port: number): Promise<string> => String(await node(port).call('CLUSTER', 'MYID'));
  /** The port of the master serving `slot`, as `port` sees it. */
  const ownerOf = async (slot: number, port = ports[0]!): Promise<number> => {
    const ranges = (await node(port).call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    return ranges.find(([lo, hi]) => slot >= lo && slot <= hi)![2][1];
  };

  beforeAll(async () => {
    execFileSync('bash', [script, 'start'], { env, encoding: 'utf8', timeout: 60_000 });
    ports = readFileSync(join(clusterState, 'ports'), 'utf8').trim().split(/\s+/).map(Number);
    // timeoutMs 3000: a busy host's late answer is not taken for the move or the failover (a call to the dead master fails or times out once).
    const opts = { cluster: true, keyPrefix: 'mv:', timeoutMs: 3000, probeMs: 100, onStoreError: 'closed' as const };
    a = await RedisStore.connect({ url: `redis://127.0.0.1:${ports[0]}`, ...opts });
    b = await RedisStore.connect({ url: `redis://127.0.0.1:${ports[1]}`, ...opts });
  }, 90_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    for (const c of admin.values()) c.disconnect();
    await killAndWait(replica);
    execFileSync('bash', [script, 'stop'], { env, encoding: 'utf8' });
    rmSync(state, { recursive: true, force: true });
  });

  it('the lease keys\' slot moved to another master mid-run (MOVED, ASK): decisions settle, in flight never above the limit', async () => {
    const ga = a.concurrency({ name: 'moved', limit: 4, maxQueue: 50, maxWaitMs: 2000 });
    const gb = b.concurrency({ name: 'moved', limit: 4, maxQueue: 50, maxWaitMs: 2000 });
    const slot = Number(await node(ports[0]!).call('CLUSTER', 'KEYSLOT', ga.leases.key));
    const from = await ownerOf(slot);
    const to = ports.find((p) => p !== from)!;
    const [fromId, toId] = [await idOf(from), await idOf(to)];
    const run = load([ga, gb], 8);
    try {
      await sleep(500);
      const before = run.admitted();
      // The move as redis-cli --cluster reshard makes it: importing, migrating, the keys, then the owner.
      await node(to).call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId);
      await node(from).call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId);
      for (;;) {
        const keys = (await node(from).call('CLUSTER', 'GETKEYSINSLOT', slot, 100)) as string[];
        if (keys.length === 0) break;
        await node(from).call('MIGRATE', '127.0.0.1', to, '', 0, 5000, 'KEYS', ...keys);
        await sleep(50);
      }
      for (const p of ports) await node(p).call('CLUSTER', 'SETSLOT', slot, 'NODE', toId);
      expect(await ownerOf(slot)).toBe(to);
      const moved = run.admitted();
      expect(moved).toBeGreaterThan(before);
      // Still deciding on the new master: an admission after the move (waited for, not a fixed second).
      expect(await until(() => run.admitted() > moved, 15_000)).toBe(true);
      expect(await node(to).zcard(ga.leases.key)).toBeLessThanOrEqual(4);
    } finally {
      await run.stop();
      ga.close();
      gb.close();
    }
    expect(run.peak()).toBeLessThanOrEqual(4);
    expect(run.peak()).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('the lease keys\' master SIGKILLed, its replica promoted: decisions settle throughout, shared again, in flight never above the limit', async () => {
    const ga = a.concurrency({ name: 'failover', limit: 4, maxQueue: 50, maxWaitMs: 2000 });
    const gb = b.concurrency({ name: 'failover', limit: 4, maxQueue: 50, maxWaitMs: 2000 });
    const slot = Number(await node(ports[0]!).call('CLUSTER', 'KEYSLOT', ga.leases.key));
    const master = await ownerOf(slot);
    const masterId = await idOf(master);
    // A replica of that master, of the test's own.
    const port = await freePort();
    const dir = join(state, 'replica');
    execFileSync('mkdir', ['-p', dir]);
    replica = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-node-timeout', '2000', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    const cli = (...args: string[]): string => {
      try {
        return execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' });
      } catch {
        return ''; // not up yet
      }
    };
    // 30 s on a busy host; a replica that exited (its port taken meanwhile, say) is named.
    const up = await until(() => replica!.exitCode !== null || cli('ping').trim() === 'PONG', 30_000);
    expect({ up, exitCode: replica.exitCode, port }).toEqual({ up: true, exitCode: null, port });
    execFileSync('redis-cli', ['--cluster', 'add-node', `127.0.0.1:${port}`, `127.0.0.1:${master}`, '--cluster-slave', '--cluster-master-id', masterId], { encoding: 'utf8', timeout: 30_000 });
    const replication = (): string => cli('info', 'replication');
    await until(() => /master_link_status:up/.test(replication()), 30_000);
    expect(replication()).toMatch(/master_link_status:up/);
    const run = load([ga, gb], 8);
    try {
      await sleep(500);
      const pids = ports.map((_, i) => Number(readFileSync(join(clusterState, `pid.${i}`), 'utf8')));
      process.kill(pids[ports.indexOf(master)]!, 'SIGKILL');
      // The replica takes over after cluster-node-timeout (2 s) and an election.
      await until(() => /role:master/.test(replication()), 30_000);
      expect(replication()).toMatch(/role:master/);
      expect(await until(() => a.health === 'shared' && b.health === 'shared', 30_000)).toBe(true);
      // Each gate is back once a lease call of its own is answered (one in flight to the dead master times out first).
      expect(await until(() => ga.stats().mode === 'shared' && gb.stats().mode === 'shared', 30_000)).toBe(true);
      const back = run.admitted();
      // Deciding on the new master: an admission after it (waited for, not a fixed second).
      expect(await until(() => run.admitted() > back, 15_000)).toBe(true);
      expect(await node(port).zcard(ga.leases.key)).toBeLessThanOrEqual(4);
    } finally {
      await run.stop();
      ga.close();
      gb.close();
    }
    expect(run.peak()).toBeLessThanOrEqual(4);
  }, 90_000);
});
