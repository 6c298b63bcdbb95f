// The store's probe in a real Redis Cluster of 3 masters (scripts/redis/cluster.sh, free ports,
// stopped by PID). One master refuses writes (OOM: maxmemory 1 under noeviction) while the
// cluster serves the rest, and it holds the limit's key but not `<keyPrefix>probe`. The probe
// wrote that one key, on a master that took it: each probe said the store was back, the next
// decisions failed again, and health flapped between shared and fallback. Now the probe writes
// on every master, and the store is back once the full one takes writes again.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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

describe.skipIf(!can)('Redis Cluster (3 masters): the store probe', () => {
  const state = mkdtempSync(join(tmpdir(), 'sluice-cluster-probe-'));
  const env = { ...process.env, SLUICE_REDIS_CLUSTER_STATE: join(state, 'c') };
  const script = join(root, 'scripts/redis/cluster.sh');
  let nodes: string[] = [];

  beforeAll(() => {
    const out = execFileSync('bash', [script, 'start'], { env, encoding: 'utf8', timeout: 60_000 });
    nodes = /REDIS_CLUSTER=(\S+)/.exec(out)![1]!.split(',');
  }, 90_000);
  afterAll(() => {
    execFileSync('bash', [script, 'stop'], { env, encoding: 'utf8' });
    rmSync(state, { recursive: true, force: true });
  });

  it('a master full (OOM) that holds the limit but not <keyPrefix>probe: fallback, and it stays there (about 20 probes) until that master takes writes', async () => {
    const keyPrefix = 'cprobe:';
    const store = await RedisStore.connect({ url: `redis://${nodes[0]}`, cluster: true, keyPrefix, timeoutMs: 1000, probeMs: 100, failures: 2 });
    const seed = new Redis(Number(nodes[0]!.split(':')[1]), '127.0.0.1');
    const owners = new Map<number, string>();
    for (const [lo, hi, [host, port]] of (await seed.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][]) for (let s = lo; s <= hi; s++) owners.set(s, `${host}:${port}`);
    seed.disconnect();
    const probeMaster = owners.get(keySlot(`${keyPrefix}probe`))!;
    const rs = store.rateStore('p', { onStoreError: 'local' });
    const policy = ratePolicy({ algorithm: 'gcra', rate: 10, perMs: 60_000, burst: 10, name: 'p' });
    // A tenant whose key lives on another master than the old probe's key.
    const tenant = Array.from({ length: 100 }, (_x, i) => `t${i}`).find((t) => owners.get(keySlot(rs.keyOf(t, policy))) !== probeMaster)!;
    const full = owners.get(keySlot(rs.keyOf(tenant, policy)))!;
    const raw = new Redis(Number(full.split(':')[1]), '127.0.0.1');
    try {
      expect((await rs.consume(tenant, policy, 1, performance.now(), 0)).unavailable).not.toBe(true);
      const changes: StoreHealth[] = [];
      const errors: string[] = [];
      store.onHealth((h, cause) => {
        changes.push(h);
        if (cause !== undefined) errors.push(String(cause));
      });
      await raw.config('SET', 'maxmemory', '1');
      const end = performance.now() + 2000;
      while (performance.now() < end) {
        await rs.consume(tenant, policy, 1, performance.now(), 0);
        await sleep(20);
      }
      // Before: ['fallback', 'shared', 'fallback', 'shared', ...], a probe on the healthy master each time.
      expect(changes).toEqual(['fallback']);
      expect(errors[0]).toContain('OOM');
      await raw.config('SET', 'maxmemory', '0');
      expect(await until(() => store.health === 'shared', 10_000)).toBe(true);
      expect(changes).toEqual(['fallback', 'shared']);
      expect((await rs.consume(tenant, policy, 1, performance.now(), 0)).unavailable).not.toBe(true);
    } finally {
      await raw.config('SET', 'maxmemory', '0').catch(() => undefined);
      raw.disconnect();
      await store.close();
    }
  }, 120_000);
});
