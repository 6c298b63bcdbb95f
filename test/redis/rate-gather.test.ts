// With a call in flight, decisions that arrive in separate macrotasks of one loop turn (as
// requests in separate I/O callbacks: Node drains the nextTick queue between them) are
// gathered and go to Redis as ONE call, at the end of the turn or at a reply. Against a
// redis-server of the test's own, held with CLIENT PAUSE so that the first call stays in flight.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ratePolicy } from '../../src/rate/index.js';
import type { RateDecision } from '../../src/rate/index.js';
import { RedisStore } from '../../src/redis/index.js';
import { awaitingReply, haveRedisServer, OwnRedis, ownStore, scriptCalls, tick } from './servers.js';

const can = haveRedisServer();

/** `n` callbacks, each run in a macrotask of its own, all in one check phase of one loop turn. */
function inSeparateMacrotasks(n: number, each: (j: number) => void): Promise<void> {
  return new Promise((resolve) => {
    for (let j = 0; j < n; j++)
      setImmediate(() => {
        each(j);
        if (j === n - 1) resolve();
      });
  });
}

describe.skipIf(!can)('decisions arriving in separate macrotasks while a call is in flight', () => {
  const s = ownStore('ga:');

  it('a lone decision goes at once; the next ones, one per macrotask, go together in one call; each caller gets its own answer, in order', async () => {
    const { store, raw } = s;
    // One token a minute: in the seconds this test can take, a key admits its burst and no more.
    const policy = ratePolicy({ algorithm: 'gcra', rate: 1, perMs: 60_000, burst: 3, name: 'ga' });
    const rs = store.rateStore('ga');
    // Load both scripts first (a NOSCRIPT reload would be a second call).
    await Promise.all([rs.consume('warm-a', policy, 1, 0, 0), rs.consume('warm-b', policy, 1, 0, 0)]);
    await rs.consume('warm-c', policy, 1, 0, 0);
    const calls0 = await scriptCalls(raw);

    expect(await raw.call('CLIENT', 'PAUSE', '1000', 'ALL')).toBe('OK');
    const sent0 = store.guard.stats().sent;
    const answeredInOrder: number[] = [];
    const asks: Promise<RateDecision>[] = [];
    const ask = (): void => {
      const i = asks.length;
      asks.push(
        rs.consume('k', policy, 1, 0, 0).then((d) => {
          answeredInOrder.push(i);
          return d;
        }),
      );
    };
    // Nothing in flight: the lone decision is written at once.
    ask();
    await tick();
    expect(store.guard.stats().sent - sent0).toBe(1);
    // Five more, each from its own macrotask while the first is in flight.
    await inSeparateMacrotasks(5, ask);
    await tick();
    await tick();
    expect(answeredInOrder).toEqual([]);
    expect(store.guard.stats().sent - sent0).toBe(2);
    expect(awaitingReply(store)).toBe(2);

    const ds = await Promise.all(asks);
    expect(answeredInOrder).toEqual([0, 1, 2, 3, 4, 5]);
    // Decided in issue order: the first three of six admitted, exactly.
    expect(ds.map((d) => d.allowed)).toEqual([true, true, true, false, false, false]);
    expect(ds.slice(0, 3).map((d) => d.facts.remaining)).toEqual([2, 1, 0]);
    expect(await scriptCalls(raw)).toBe(calls0 + 2);
    expect(rs.stats().fallback).toBe(0);
  });
});

describe.skipIf(!can)('Redis going away while decisions are gathered', () => {
  let own: OwnRedis;
  let raw: Redis;
  beforeAll(async () => {
    own = await OwnRedis.start();
    raw = new Redis(own.url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
    raw.on('error', () => undefined);
  });
  afterAll(async () => {
    raw?.disconnect();
    await own?.dispose();
  });

  it('every promise settles, each decided locally (the store timeout and the breaker as before)', async () => {
    const redis = await RedisStore.connect({ url: own.url, keyPrefix: 'gg:', timeoutMs: 500, probeMs: 300, failures: 3 });
    try {
      const policy = ratePolicy({ algorithm: 'gcra', rate: 1000, burst: 1000, name: 'gg' });
      const rs = redis.rateStore('gg');
      await rs.consume('warm', policy, 1, 0, 0);
      expect(await raw.call('CLIENT', 'PAUSE', '5000', 'ALL')).toBe('OK');
      const asks: Promise<RateDecision>[] = [rs.consume('k', policy, 1, 0, 0)];
      await tick();
      // Four gathered behind the one in flight; Redis is killed in the macrotask of the last.
      await inSeparateMacrotasks(4, (j) => {
        asks.push(rs.consume(`k${j}`, policy, 1, 0, 0));
        if (j === 3) void own.stop();
      });
      const settled = await Promise.allSettled(asks);
      expect(settled.map((s) => s.status)).toEqual(Array(5).fill('fulfilled'));
      for (const s of settled) expect((s as PromiseFulfilledResult<RateDecision>).value.allowed).toBe(true);
      expect(rs.stats().fallback).toBe(5);
      // Redis still away: a later decision settles too, decided locally.
      expect((await rs.consume('later', policy, 1, 0, 0)).allowed).toBe(true);
      expect(rs.stats().fallback).toBe(6);
    } finally {
      await redis.close();
    }
  });
});
