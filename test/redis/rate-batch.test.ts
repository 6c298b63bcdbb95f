// Rate decisions issued in one tick share one script call, each with its own exact answer,
// against the real Redis (REDIS_URL): mixed keys, policies and costs, a refusal, a key of
// the wrong type failing only its own callers, NOSCRIPT, the batch size cap, hash slots.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ratePolicy } from '../../src/rate/index.js';
import { KeyedRateLimiter } from '../../src/rate/index.js';
import type { RateDecision, RateStore } from '../../src/rate/index.js';
import { RedisStore, StoreWrongTypeError } from '../../src/redis/index.js';
import { keySlot } from '../../src/redis/keys.js';
import { answerBatch } from '../../src/redis/rate-batch.js';
import type { BatchEntry } from '../../src/redis/rate-batch.js';
import { sharedRedis, unique } from './servers.js';

const svc = await sharedRedis();
let store: RedisStore;
let raw: Redis;

if (svc.up) {
  beforeAll(async () => {
    store = await RedisStore.connect({ url: svc.url, keyPrefix: `${unique('b')}:`, timeoutMs: 2000 });
    raw = new Redis(svc.url);
  });
  afterAll(async () => {
    await store.close();
    raw.disconnect();
  });
}

const gcra = ratePolicy({ algorithm: 'gcra', rate: 10, burst: 5, name: 'g' });
const bucket = ratePolicy({ algorithm: 'token-bucket', rate: 10, burst: 4, name: 'tb' });
const window = ratePolicy({ algorithm: 'sliding-window', limit: 3, windowMs: 60_000, name: 'sw' });

/** Settle every promise, keeping each outcome. */
function outcomes<T>(ps: Promise<T>[]): Promise<({ ok: true; value: T } | { ok: false; error: unknown })[]> {
  return Promise.all(ps.map((p) => p.then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }))));
}

describe.skipIf(!svc.up)('batched rate decisions', () => {
  it('one tick, one script call: mixed keys, policies and costs each get their own exact answer, a refusal among them', async () => {
    const rs = store.rateStore(unique('mixed'));
    const before = store.guard.stats().sent;
    const [a1, b1, a2, t1, w1, a3, w2] = await Promise.all([
      rs.consume('a', gcra, 3, 0, 0), // a: 3 of 5
      rs.consume('b', gcra, 1, 0, 0), // b: 1 of 5
      rs.consume('a', gcra, 3, 0, 0), // a: 3 more do not fit: refused, ~100 ms until they do
      rs.consume('a', bucket, 4, 0, 0), // a under another algorithm: its own state, 4 of 4
      rs.consume('c', window, 2, 0, 0), // c: 2 of 3 in the window
      rs.consume('a', gcra, 2, 0, 0), // a: the 2 left fit
      rs.consume('c', window, 2, 0, 0), // c: 2 more exceed the window's 3
    ]);
    expect(store.guard.stats().sent - before).toBe(1);
    const facts = (d: RateDecision): [boolean, number] => [d.allowed, d.facts.remaining];
    expect(facts(a1)).toEqual([true, 2]);
    expect(facts(b1)).toEqual([true, 4]);
    expect(a2.allowed).toBe(false);
    expect(a2.retryAfterMs).toBeGreaterThan(0);
    expect(a2.retryAfterMs).toBeLessThanOrEqual(100);
    expect(facts(t1)).toEqual([true, 0]);
    expect(facts(w1)).toEqual([true, 1]);
    // One instant for the batch: the 2 left are there exactly.
    expect(facts(a3)).toEqual([true, 0]);
    expect(w2.allowed).toBe(false);
    expect(w2.retryAfterMs).toBeGreaterThan(0);
  });

  it('a key holding another type fails its own callers only; the rest of the batch is decided and the value untouched', async () => {
    const rs = store.rateStore(unique('wrong'));
    await raw.rpush(rs.keyOf('bad', gcra), 'not', 'a', 'bucket');
    const before = store.guard.stats().sent;
    const got = await outcomes([rs.consume('ok1', gcra, 1, 0, 0), rs.consume('bad', gcra, 1, 0, 0), rs.consume('ok2', gcra, 5, 0, 0), rs.consume('bad', gcra, 2, 0, 0), rs.consume('ok1', gcra, 1, 0, 0)]);
    expect(store.guard.stats().sent - before).toBe(1);
    expect(got.map((o) => o.ok)).toEqual([true, false, true, false, true]);
    for (const i of [1, 3]) {
      const e = (got[i] as { error: unknown }).error;
      expect(e).toBeInstanceOf(StoreWrongTypeError);
      expect((e as StoreWrongTypeError).key).toBe(rs.keyOf('bad', gcra));
    }
    expect(got.filter((o) => o.ok).map((o) => (o as { value: RateDecision }).value.facts.remaining)).toEqual([4, 0, 3]);
    expect(await raw.lrange(rs.keyOf('bad', gcra), 0, -1)).toEqual(['not', 'a', 'bucket']);
    expect(store.health).toBe('shared');
    await raw.del(rs.keyOf('bad', gcra));
  });

  it('after SCRIPT FLUSH (NOSCRIPT) a lone decision and a batch are sent again with their scripts and every decision answered', async () => {
    const rs = store.rateStore(unique('noscript'));
    expect((await rs.consume('k', gcra, 1, 0, 0)).allowed).toBe(true);
    await raw.script('FLUSH');
    // A lone decision (the one-operation script), then a batch (the batch script): each is sent again with its script.
    expect((await rs.consume('k', gcra, 1, 0, 0)).allowed).toBe(true);
    const ds = await Promise.all(Array.from({ length: 6 }, (_, i) => rs.consume(`k${i % 3}`, gcra, 1, 0, 0)));
    expect(ds.map((d) => d.facts.remaining)).toEqual([4, 4, 4, 3, 3, 3]);
    expect(rs.stats().fallback).toBe(0);
  });

  it('at most `batch` decisions per script call; one script per decision with batch: 1', async () => {
    const four = await RedisStore.connect({ url: svc.url, keyPrefix: store.config.keyPrefix, timeoutMs: 2000, batch: 4 });
    const one = await RedisStore.connect({ url: svc.url, keyPrefix: store.config.keyPrefix, timeoutMs: 2000, batch: 1 });
    try {
      const name = unique('cap');
      const p = ratePolicy({ algorithm: 'gcra', rate: 1000, burst: 1000 });
      for (const [s, calls] of [
        [four, 3],
        [one, 10],
      ] as const) {
        const rs = s.rateStore(name);
        const before = s.guard.stats().sent;
        const ds = await Promise.all(Array.from({ length: 10 }, (_, i) => rs.consume(`k${i}`, p, 1, 0, 0)));
        expect(ds.every((d) => d.allowed)).toBe(true);
        expect(s.guard.stats().sent - before).toBe(calls);
      }
      expect(() => new RedisStore({ batch: 0 })).toThrow(/batch/);
    } finally {
      await four.close();
      await one.close();
    }
  });

  it("on a client with auto-pipelining and a keyPrefix, a batch goes straight to the connection (not held in ioredis's pipeline) under the client's prefix, and NOSCRIPT still reloads; the client grows no commands", async () => {
    const clientPrefix = `${unique('kp')}:`;
    const client = new Redis(svc.url, { enableAutoPipelining: true, keyPrefix: clientPrefix });
    const s = await RedisStore.connect({ client, keyPrefix: 'ap:', timeoutMs: 2000 });
    // One unit a minute: nothing refills between the calls, however slow the host (at 10/s, 100 ms
    // between the flushes and the last call gave k0 a unit back: 'expected 4 to be 2' at load 15+).
    const gcra = ratePolicy({ algorithm: 'gcra', rate: 1, perMs: 60_000, burst: 5, name: 'g' });
    try {
      const rs = s.rateStore('x');
      for (const [n, remaining] of [
        [1, [4]],
        [3, [3, 4, 4]],
      ] as const) {
        const pending = Promise.all(Array.from({ length: n }, (_, i) => rs.consume(`k${i}`, gcra, 1, 0, 0)));
        // The store's batch forms at the end of this tick; by the next, its command is written.
        await new Promise<void>((resolve) => process.nextTick(resolve));
        expect(client.autoPipelineQueueSize).toBe(0);
        expect((await pending).map((d) => d.facts.remaining)).toEqual(remaining);
        await raw.script('FLUSH');
      }
      // Under the client's prefix, as ioredis's own commands would be.
      expect(await raw.exists(`${clientPrefix}${rs.keyOf('k0', gcra)}`)).toBe(1);
      expect(await raw.exists(rs.keyOf('k0', gcra))).toBe(0);
      expect(rs.stats()).toEqual({ shared: 4, fallback: 0 });
      // After the flushes: sent again with the script.
      expect((await rs.consume('k0', gcra, 1, 0, 0)).facts.remaining).toBe(2);
      // The user's client grows no commands of sluice's (before: sluiceRate, sluiceRate1 and their Buffer forms).
      expect(Object.keys(client).filter((k) => /sluice/i.test(k))).toEqual([]);
    } finally {
      await s.close();
      client.disconnect();
    }
  });

  it('refunds ride in the batch of the decisions beside them', async () => {
    const rs = store.rateStore(unique('refund'));
    expect((await rs.consume('k', gcra, 5, 0, 0)).facts.remaining).toBe(0);
    const before = store.guard.stats().sent;
    const [, d] = await Promise.all([rs.refund('k', gcra, 2, 0), rs.consume('k', gcra, 2, 0, 0)]);
    expect(store.guard.stats().sent - before).toBe(1);
    expect(d.allowed).toBe(true);
  });

  it('consumeThen: the next step runs on the decision, with the arguments given back; what it throws or returns settles the one promise', async () => {
    const rs = store.rateStore(unique('then'));
    const seen: unknown[][] = [];
    const then = (d: RateDecision, arg: string, key: string, cost: number, now: number): string | Promise<string> => {
      seen.push([arg, key, cost, now, d.allowed, d.facts.remaining]);
      if (arg === 'throw') throw new Error('from then');
      return arg === 'later' ? Promise.resolve(`${key} later`) : `${key} ${d.allowed}`;
    };
    const got = await outcomes([rs.consumeThen('k', gcra, 2, 7, 0, then, 'now'), rs.consumeThen('k', gcra, 4, 8, 0, then, 'throw'), rs.consumeThen('k', gcra, 3, 9, 0, then, 'later')]);
    expect(got).toEqual([
      { ok: true, value: 'k true' },
      { ok: false, error: new Error('from then') },
      { ok: true, value: 'k later' },
    ]);
    // The refusal (4 of the 3 left) is decided and handed on like any other.
    expect(seen).toEqual([
      ['now', 'k', 2, 7, true, 3],
      ['throw', 'k', 4, 8, false, 3],
      ['later', 'k', 3, 9, true, 0],
    ]);
    expect(rs.stats()).toEqual({ shared: 3, fallback: 0 });
  });

  it('a KeyedRateLimiter answers a caller without a signal through consumeThen, one with a signal through consume', async () => {
    const rs = store.rateStore(unique('gate'));
    const calls: string[] = [];
    const spy: RateStore = {
      consume: (...a) => (calls.push('consume'), rs.consume(...a)),
      consumeThen: (...a) => (calls.push('consumeThen'), rs.consumeThen(...a)),
      refund: (...a) => rs.refund(...a),
      delete: (k) => rs.delete(k),
      clear: () => rs.clear(),
      size: 0,
    };
    const lim = new KeyedRateLimiter({ name: 'l', policy: { algorithm: 'gcra', rate: 10, burst: 2 }, store: spy });
    const [a, b, c] = await Promise.all([lim.admit({ key: 'k' }), lim.admit({ key: 'k', signal: new AbortController().signal }), lim.admit({ key: 'k' })]);
    expect(calls).toEqual(['consumeThen', 'consume', 'consumeThen']);
    expect([a.ok, b.ok, c.ok]).toEqual([true, true, false]);
    expect(c.ok ? undefined : c.reason).toBe('rate_limited');
    // Closed while the decision was out: the caller is told 'closed', and the units go back.
    const late = lim.admit({ key: 'j' });
    lim.close();
    const r = await late;
    expect(r.ok ? undefined : r.reason).toBe('closed');
    await store.guard.settled();
    expect((await rs.consume('j', lim.policy, 2, 0, 0)).allowed).toBe(true);
  });

  it('hash slots are Redis Cluster’s (CRC16 of the hash tag, mod 16384)', () => {
    // Values of `CLUSTER KEYSLOT` from the Redis documentation; cluster.test.ts checks more against a live cluster.
    expect(keySlot('123456789')).toBe(0x31c3); // CRC16-XMODEM's check value
    expect(keySlot('somekey')).toBe(11058);
    expect(keySlot('foo{hash_tag}')).toBe(2515);
    expect(keySlot('bar{hash_tag}')).toBe(2515);
    expect(keySlot('{user1000}.following')).toBe(keySlot('user1000'));
    // An empty tag does not count: the whole key is hashed.
    expect(keySlot('foo{}{bar}')).not.toBe(keySlot('bar'));
  });
});

describe('answerBatch (no Redis)', () => {
  const entries = (n: number, log: unknown[][]): BatchEntry[] =>
    Array.from({ length: n }, (_, i) => ({
      key: `k${i}`,
      op: 'c' as const,
      policy: i === 1 ? bucket : gcra,
      x: 1,
      y: 0,
      answer: (verdict: number, reply: Buffer, at: number, now: number) => {
        const doubles = at < 0 ? [] : Array.from({ length: 2 }, (_, k) => reply.readDoubleLE(at + 8 * k));
        log.push([i, String.fromCharCode(verdict), doubles, now]);
      },
      fail: (err: unknown) => log.push([i, err instanceof StoreWrongTypeError ? 'W' : (err as Error).message]),
    }));
  /** A state as the script stores and answers it: byte 1 (GCRA's, `g`: 2), then the doubles little-endian. */
  const state = (...xs: number[]): Buffer => stateOf(1, xs);
  const g = (...xs: number[]): Buffer => stateOf(2, xs);
  const stateOf = (marker: number, xs: number[]): Buffer => {
    const b = Buffer.alloc(1 + 8 * xs.length);
    b[0] = marker;
    xs.forEach((x, k) => b.writeDoubleLE(x, 1 + 8 * k));
    return b;
  };
  const reply = (...parts: (string | Buffer)[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));

  it("each entry its verdict, its state's doubles (any bytes, ';' too) and the batch time; W fails its own entry; a short reply fails the rest, naming the count", () => {
    const log: unknown[][] = [];
    // 3.0000000000000004 and 59 (';' in its bytes) must not cut an entry short.
    answerBatch(entries(5, log), reply('=1000.5;', '1', '0', state(59 + 2 ** -40, 3.0000000000000004), 'W'));
    expect(log).toEqual([
      [0, '1', [], 1000.5],
      [1, '0', [59 + 2 ** -40, 3.0000000000000004], 1000.5],
      [2, 'W'],
      [3, 'sluice/redis: the rate script answered 3 of 5 operations'],
      [4, 'sluice/redis: the rate script answered 3 of 5 operations'],
    ]);
  });

  it('TIME as Redis gives it (s·1000 + us/1000), parts beyond the entries ignored, a state cut short fails its entry', () => {
    const log: unknown[][] = [];
    answerBatch(entries(1, log), reply('1764748800 123456;', '1', g(1764748800123.4567, 1764748800000.25), '1'));
    expect(log).toEqual([[0, '1', [1764748800123.4567, 1764748800000.25], 1764748800 * 1000 + 123456 / 1000]]);
    const cut: unknown[][] = [];
    answerBatch(entries(1, cut), reply('=5;1', g(7, 5).subarray(0, 9)));
    expect(cut).toEqual([[0, 'sluice/redis: the rate script answered 0 of 1 operations']]);
  });
});
