// A real Redis Cluster of 3 masters, started by scripts/redis/cluster.sh on free ports and
// stopped by PID: rate decisions, leases, deletes and clears work across nodes, and every key
// of one caller's key lands in one slot.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/breaker/index.js';
import { KeyedRateLimiter, ratePolicy } from '../../src/rate/index.js';
import { RedisStore } from '../../src/redis/index.js';
import { keySlot } from '../../src/redis/keys.js';
import { root } from '../gateway/helpers.js';
import { peakHeld } from './peak-held.js';
import { haveRedisServer, until } from './servers.js';

const can = haveRedisServer();

describe.skipIf(!can)('Redis Cluster (3 masters)', () => {
  const state = mkdtempSync(join(tmpdir(), 'sluice-cluster-'));
  const env = { ...process.env, SLUICE_REDIS_CLUSTER_STATE: join(state, 'c') };
  const script = join(root, 'scripts/redis/cluster.sh');
  let nodes: string[] = [];
  let redis: RedisStore;
  let raw: Cluster;

  beforeAll(() => {
    const out = execFileSync('bash', [script, 'start'], { env, encoding: 'utf8', timeout: 60_000 });
    nodes = /REDIS_CLUSTER=(\S+)/.exec(out)![1]!.split(',');
  }, 90_000);
  beforeAll(async () => {
    redis = await RedisStore.connect({ url: `redis://${nodes[0]}`, cluster: true, keyPrefix: 'cl:', timeoutMs: 2000 });
    raw = new Cluster([{ host: '127.0.0.1', port: Number(nodes[0]!.split(':')[1]) }]);
    await new Promise((r) => raw.once('ready', r));
  });
  afterAll(async () => {
    await redis?.close();
    raw?.disconnect();
    execFileSync('bash', [script, 'stop'], { env, encoding: 'utf8' });
    rmSync(state, { recursive: true, force: true });
  });

  it('is a 3-master cluster and the store talks to it', async () => {
    expect(nodes).toHaveLength(3);
    expect(raw.nodes('master')).toHaveLength(3);
    expect(redis.health).toBe('shared');
  });

  it('rate decisions on keys spread over every node: each key its own exact bucket', async () => {
    const rs = redis.rateStore('rate');
    const policy = ratePolicy({ algorithm: 'gcra', rate: 1, perMs: 60_000, burst: 3 });
    const keys = Array.from({ length: 30 }, (_, i) => `tenant-${i}`);
    const slots = new Set<number>();
    for (const k of keys) slots.add(Number(await raw.call('CLUSTER', 'KEYSLOT', rs.keyOf(k, policy))));
    const owners = new Set(await Promise.all([...slots].map(async (s) => ownerOf(s))));
    expect(owners.size).toBe(3); // the keys live on all three masters
    const lim = new KeyedRateLimiter({ policy, store: rs });
    for (const k of keys) {
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push((await lim.admit({ key: k })).ok);
      expect(answers).toEqual([true, true, true, false, false]);
    }
  });

  it('decisions of one tick across every node: batched per hash slot, one script per slot, each key its own answer', async () => {
    const rs = redis.rateStore('batch');
    const policy = ratePolicy({ algorithm: 'gcra', rate: 1, perMs: 60_000, burst: 2 });
    const keys = Array.from({ length: 40 }, (_, i) => `b-${i % 20}`); // every key twice
    // keySlot is Redis Cluster's: the batcher groups by it.
    for (const k of keys.slice(0, 20)) expect(keySlot(rs.keyOf(k, policy))).toBe(Number(await raw.call('CLUSTER', 'KEYSLOT', rs.keyOf(k, policy))));
    const slots = new Set(keys.map((k) => keySlot(rs.keyOf(k, policy))));
    const before = redis.guard.stats().sent;
    const ds = await Promise.all([...keys, ...keys.slice(0, 20)].map((k) => rs.consume(k, policy, 1, 0, 0)));
    // Same-slot keys share a call (no CROSSSLOT); the calls are as many as the slots.
    expect(redis.guard.stats().sent - before).toBe(slots.size);
    expect(ds.map((d) => d.allowed)).toEqual([...Array<boolean>(40).fill(true), ...Array<boolean>(20).fill(false)]);
    expect(rs.stats().fallback).toBe(0);
  });

  it('all states of one key share a slot (hash tag), so delete is one multi-key DEL on one node', async () => {
    const rs = redis.rateStore('tags');
    const policies = [ratePolicy({ algorithm: 'token-bucket', rate: 5 }), ratePolicy({ algorithm: 'gcra', rate: 5 }), ratePolicy({ algorithm: 'sliding-window', limit: 5, windowMs: 1000 })];
    for (const key of ['a', 'b}c', '', 'x{y}z']) {
      const slots = new Set(await Promise.all(policies.map(async (p) => Number(await raw.call('CLUSTER', 'KEYSLOT', rs.keyOf(key, p))))));
      expect(slots.size).toBe(1);
      for (const p of policies) await rs.consume(key, p, 1, 0, 0);
      expect(await rs.delete(key)).toBe(true); // CROSSSLOT would reject
    }
  });

  it('clear scans every master', async () => {
    const rs = redis.rateStore('clear');
    const policy = ratePolicy({ algorithm: 'gcra', rate: 5 });
    for (let i = 0; i < 20; i++) await rs.consume(`k${i}`, policy, 1, 0, 0);
    await rs.clear();
    for (const node of raw.nodes('master')) expect(await node.keys('cl:clear*')).toEqual([]);
  });

  it('concurrency leases and a shared breaker on the cluster', async () => {
    const other = await RedisStore.connect({ url: `redis://${nodes[1]}`, cluster: true, keyPrefix: 'cl:', timeoutMs: 2000 });
    try {
      const a = redis.concurrency({ name: 'pool', limit: 3, maxQueue: 50 });
      const b = other.concurrency({ name: 'pool', limit: 3, maxQueue: 50 });
      const max = await peakHeld([a, b], 15);
      expect(max).toBeLessThanOrEqual(3);
      expect(max).toBeGreaterThanOrEqual(1);
      const ba = new CircuitBreaker({ name: 'cl-brk', openMs: 5000 });
      const bb = new CircuitBreaker({ name: 'cl-brk', openMs: 5000 });
      const sa = redis.shareBreaker(ba, { syncMs: 50 });
      const sb = other.shareBreaker(bb, { syncMs: 50 });
      ba.trip();
      expect(await until(() => bb.state === 'open', 3000)).toBe(true);
      sa.close();
      sb.close();
    } finally {
      await other.close();
    }
  });

  async function ownerOf(slot: number): Promise<string> {
    const ranges = (await raw.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const r = ranges.find(([lo, hi]) => slot >= lo && slot <= hi)!;
    return `${r[2][0]}:${r[2][1]}`;
  }
});
