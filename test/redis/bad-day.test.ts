// A bad day for the Redis store, against redis-servers this file starts itself and stops by
// PID: the lease sets vanish under running work (FLUSHALL, an eviction, a failover to an empty
// replica), Redis comes back demanding a password, and a server whose maxmemory-policy evicts.
import { fork } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ratePolicy } from '../../src/rate/index.js';
import { RedisStore } from '../../src/redis/index.js';
import type { SharedConcurrencyGate } from '../../src/redis/index.js';
import { freePort, haveRedisServer, OwnRedis, until } from './servers.js';

const can = haveRedisServer();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const policy = ratePolicy({ algorithm: 'gcra', rate: 10, perMs: 60_000, burst: 10, name: 'p' });

describe.skipIf(!can)('lease sets vanish under running work (FLUSHALL)', () => {
  let own: OwnRedis;
  beforeAll(async () => {
    own = await OwnRedis.start();
  });
  afterAll(async () => {
    await own.dispose();
  });

  it('from the flush on, the others lease nothing while the work still running is leased again (the fence): in flight never above the limit, then the limit is whole again', async () => {
    // A long store timeout: a call late on a busy host, decided by the failure mode ('local'), would admit beside the fence.
    const [a, b] = [await RedisStore.connect({ url: own.url, timeoutMs: 10_000 }), await RedisStore.connect({ url: own.url, timeoutMs: 10_000 })];
    const raw = new Redis(own.url);
    try {
      // TTL 1.5 s: renewed every 500 ms, with room for a late renewal on a busy machine.
      const opts = { name: 'pool', limit: 4, maxQueue: 100, leaseTtlMs: 1500 };
      const [ga, gb] = [a.concurrency(opts), b.concurrency(opts)];
      // In flight, counted here, outside sluice.
      const count = { now: 0, max: 0, bDone: 0 };
      const run = async (g: SharedConcurrencyGate, until: () => Promise<void>, isB: boolean): Promise<void> => {
        const p = await g.admit();
        if (!p.ok) return;
        count.now++;
        count.max = Math.max(count.max, count.now);
        await until();
        count.now--;
        if (isB) count.bDone++;
        p.release();
      };
      // A: 4 long calls (held until the test ends them); B: a stream of short ones, waiting for slots.
      let endLong!: () => void;
      const longDone = new Promise<void>((r) => (endLong = r));
      const longs = Array.from({ length: 4 }, () => run(ga, () => longDone, false));
      expect(await until(async () => count.now === 4, 10_000)).toBe(true);
      let stop = false;
      const streamB = (async () => {
        while (!stop) await Promise.all(Array.from({ length: 4 }, () => run(gb, () => sleep(10), true)));
      })();
      await sleep(200);
      expect(count.max).toBe(4);

      const before = ga.leases.epoch;
      await raw.flushall();
      // Redis counts none of A's work until A renews (within 500 ms). B's first call after the
      // flush, in the epoch that was lost, proves the loss: nothing is granted for a TTL while
      // A's four leases come back; after it they are counted, and B leases nothing while they run.
      // Watched for at least 2.5 s (past the fence's TTL), until A's leases are counted again:
      // an event, not a time, since A's renewal runs late on a busy host.
      const flushed = Date.now();
      expect(await until(async () => Date.now() - flushed >= 2500 && (await raw.zcard(ga.leases.key)) === 4 && gb.leases.epoch === ga.leases.epoch, 15_000)).toBe(true);
      expect(count.max).toBe(4);
      expect(await raw.zcard(ga.leases.key)).toBe(4);
      expect(ga.leases.epoch).not.toBe(before);
      expect(gb.leases.epoch).toBe(ga.leases.epoch);

      // A's work ends: B gets the limit again, and never more.
      endLong();
      await Promise.all(longs);
      const done = count.bDone;
      count.max = count.now;
      const ended = Date.now();
      expect(await until(() => Date.now() - ended >= 500 && count.bDone > done, 10_000)).toBe(true);
      expect(count.max).toBeLessThanOrEqual(4);
      stop = true;
      await streamB;
      expect(await until(async () => (await raw.zcard(ga.leases.key)) === 0, 10_000)).toBe(true);
    } finally {
      raw.disconnect();
      await Promise.all([a.close(), b.close()]);
    }
  }, 60_000);
});

describe.skipIf(!can)('Redis back with a password the store lacks (NOAUTH)', () => {
  it('decisions fall back, and the store says why: NOAUTH, not "Stream isn\'t writeable"; shared again once the password is lifted', async () => {
    const own = await OwnRedis.start();
    // A long store timeout: the first decision is Redis's own on a busy host too (NOAUTH and the dropped connection fail at once).
    const redis = await RedisStore.connect({ url: own.url, timeoutMs: 5000, probeMs: 200, failures: 3 });
    try {
      const rs = redis.rateStore('auth', { onStoreError: 'closed' });
      expect((await rs.consume('k', policy, 1, performance.now(), 0)).allowed).toBe(true);
      // As a restart with another requirepass looks to the store: its connection drops, and the
      // server wants a password on the next.
      const admin = new Redis(own.url);
      await admin.config('SET', 'requirepass', 'another-secret');
      await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      // Every decision settles, refused for the outage, until the store names the cause.
      expect(
        await until(async () => {
          const d = await rs.consume('k', policy, 1, performance.now(), 0);
          expect(d.unavailable).toBe(true);
          return /NOAUTH/.test(redis.lastError ?? '') && redis.health === 'fallback';
        }, 15_000),
      ).toBe(true);

      await admin.config('SET', 'requirepass', '');
      admin.disconnect();
      expect(await until(async () => !(await rs.consume('k', policy, 1, performance.now(), 0)).unavailable, 15_000)).toBe(true);
      expect(redis.health).toBe('shared');
    } finally {
      await redis.close();
      await own.dispose();
    }
  }, 60_000);
});

describe.skipIf(!can)('a server whose maxmemory-policy evicts', () => {
  const warnings = (): { codes: string[]; off: () => void } => {
    const codes: string[] = [];
    const on = (w: Error & { code?: string }): void => void codes.push(w.code ?? '');
    process.on('warning', on);
    return { codes, off: () => process.off('warning', on) };
  };

  it('connect warns (SLUICE_REDIS_EVICTION) under allkeys-lru and volatile-lru, not under noeviction', async () => {
    for (const [p, warned] of [['allkeys-lru', true], ['volatile-lru', true], ['noeviction', false]] as const) {
      const own = await OwnRedis.start(['--maxmemory-policy', p]);
      const w = warnings();
      try {
        // connect checks the policy within connectTimeoutMs: room for a busy host.
        const redis = await RedisStore.connect({ url: own.url, connectTimeoutMs: 30_000 });
        await redis.close();
        // process.emitWarning delivers on the next tick.
        await sleep(20);
        expect([p, w.codes.includes('SLUICE_REDIS_EVICTION')]).toEqual([p, warned]);
      } finally {
        w.off();
        await own.dispose();
      }
    }
  }, 60_000);
});

describe('a store closed while Redis is away', () => {
  it('the process exits by itself: a concurrency gate in its failure mode, nobody waiting, holds no timer that keeps it alive', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const child = fork('test/redis/exit-child.ts', [url], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => void (out += String(d)));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      // A busy machine starts tsx slowly: up to a minute to get there, then 10 s to exit.
      expect(await until(() => out.includes('closed'), 60_000)).toBe(true);
      expect(out.trim()).toBe('closed store_unavailable fallback');
      const code = await Promise.race([exited, sleep(10_000).then(() => 'still running')]);
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 90_000);
});
