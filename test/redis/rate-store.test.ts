// sluice/redis rate store against the real Redis (REDIS_URL): the scripts make the memory
// store's decisions, on Redis's clock, with TTLs that keep Redis bounded.
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/clock.js';
import { systemClock } from '../../src/core/clock.js';
import { KeyedRateLimiter, MemoryStore, ratePolicy } from '../../src/rate/index.js';
import type { RatePolicyInput } from '../../src/rate/index.js';
import { RedisStore, StoreWrongTypeError, hashTag } from '../../src/redis/index.js';
import { StateKeys, stateKey } from '../../src/redis/keys.js';
import type { BatchOp, RateOp } from '../../src/redis/rate-batch.js';
import { replayConsume, replayTake } from '../../src/redis/rate-replay.js';
import { callRate } from './rate-commands.js';
import type { RateAnswer } from './rate-commands.js';
import { sharedRedis, unique } from './servers.js';

const svc = await sharedRedis();
let store: RedisStore;
let raw: Redis;

if (svc.up) {
  beforeAll(async () => {
    // A generous timeout: these tests are about decisions, not about a busy machine's latency.
    store = await RedisStore.connect({ url: svc.url, keyPrefix: `${unique('t')}:`, timeoutMs: 2000 });
    raw = new Redis(svc.url);
  });
  afterAll(async () => {
    await store.close();
    raw.disconnect();
  });
}

const POLICIES: Record<string, RatePolicyInput> = {
  'token-bucket': { algorithm: 'token-bucket', rate: 10, burst: 5 },
  gcra: { algorithm: 'gcra', rate: 10, burst: 5 },
  'sliding-window': { algorithm: 'sliding-window', limit: 5, windowMs: 500 },
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!svc.up)('RedisRateStore', () => {
  describe('the scripts make the memory store’s decisions (same state, same instants)', () => {
    it('state keys come from a bounded cache: the same keys as stateKey, past its bound and across its refreshes, per algorithm', () => {
    const keys = new StateKeys('p:', 3);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 250; i++) {
        for (const kind of ['gcra', 'token-bucket', 'sliding-window'] as const) {
          const key = i % 5 === 0 ? `${i}}%` : `k${i % 7 === 0 ? 0 : i}`;
          expect(keys.of(key, kind)).toBe(stateKey('p:', key, kind));
        }
      }
    }
  });

  for (const [algo, input] of Object.entries(POLICIES)) {
      it(algo, async () => {
        const policy = ratePolicy({ ...input, name: 'p' });
        const op = fc.record({
          dt: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 700, noNaN: true })),
          kind: fc.constantFrom('c', 'c', 'c', 'r', 't'),
          cost: fc.integer({ min: 1, max: 7 }),
          maxDelay: fc.constantFrom(0, 0, 80, 1000, Infinity),
        });
        await fc.assert(
          fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
            const key = unique('parity');
            const mem = new MemoryStore();
            let now = 1.7e12 + Math.random() * 1e9; // Redis-sized epoch milliseconds
            // Ops at one instant (dt 0) go as one batch: one script call deciding them in order.
            const batches: { now: number; ops: typeof ops }[] = [];
            for (const o of ops) {
              now += o.dt;
              if (o.dt === 0 && batches.length > 0) batches.at(-1)!.ops.push(o);
              else batches.push({ now, ops: [o] });
            }
            for (const b of batches) {
              const batch: BatchOp[] = b.ops.map((o) => ({
                key,
                policy,
                op: o.kind as RateOp,
                x: o.cost,
                y: o.kind === 'c' ? (o.maxDelay === Infinity ? 1e308 : o.maxDelay) : o.kind === 't' ? o.cost + 2 : 0,
              }));
              const answers = await callBatch(batch, b.now);
              expect(answers).toHaveLength(batch.length);
              b.ops.forEach((o, i) => {
                const a = answers[i]!;
                expect(a.now).toBe(b.now);
                if (o.kind === 'c') {
                  // The decision the client replays on the state Redis found equals the memory store's, and so does Redis's verdict.
                  expect(replayConsume(policy, a.verdict, a.reply, a.at, a.now, o.cost, o.maxDelay)).toEqual(mem.consume('k', policy, o.cost, b.now, o.maxDelay));
                } else if (o.kind === 'r') {
                  expect(a.verdict).toBe(45 /* - */);
                  mem.refund('k', policy, o.cost, b.now);
                } else {
                  const first = mem.consume('k', policy, o.cost, b.now, 0);
                  let taken = first.allowed ? o.cost : 0;
                  if (first.allowed) {
                    const extra = Math.min(2, Math.floor(mem.available('k', policy, b.now) + 1e-9));
                    if (extra >= 1 && mem.consume('k', policy, extra, b.now, 0).allowed) taken += extra;
                  }
                  expect(replayTake(policy, a.verdict, a.reply, a.at, a.now, o.cost, o.cost + 2).taken).toBe(taken);
                }
              });
            }
            await raw.del(key);
          }),
          { numRuns: 25 },
        );
      });
    }
  });

  it('every key sits under one hash tag: braces and percent signs in keys are encoded, the empty key has a tag', () => {
    expect(hashTag('user:42')).toBe('{user:42}');
    expect(hashTag('a}b{c')).toBe('{a%7Db{c}');
    expect(hashTag('100%')).toBe('{100%25}');
    expect(hashTag('')).toBe('{%}');
    const rs = store.rateStore('tags');
    const k = rs.keyOf('a}b', ratePolicy(POLICIES['gcra']!));
    // Cluster hashes the text between the first '{' and the next '}': the whole encoded key.
    expect(k.slice(k.indexOf('{') + 1, k.indexOf('}'))).toBe('a%7Db');
  });

  for (const [algo, input] of Object.entries(POLICIES)) {
    it(`${algo}: burst, cost, exact retryAfterMs on Redis time, TTL within 2 s of the idle time`, async () => {
      const rs = store.rateStore(`basic-${algo}`);
      const policy = ratePolicy({ ...input, name: algo });
      const key = unique('k');
      const a = await rs.consume(key, policy, 3, 0, 0);
      expect(a).toMatchObject({ allowed: true, delayMs: 0, retryAfterMs: 0 });
      expect(a.facts).toMatchObject({ policy: algo, limit: 5, remaining: 2 });
      const pttl = await raw.pttl(rs.keyOf(key, policy));
      expect(pttl).toBeGreaterThan(0);
      // Expires 1–2 s after the state becomes fresh: 300 ms for 3 of 10/s, 2 windows for the window.
      expect(pttl).toBeLessThanOrEqual((algo === 'sliding-window' ? 1000 : 300) + 2000);
      expect((await rs.consume(key, policy, 2, 0, 0)).allowed).toBe(true);
      // Spent: refused now — or after the units a slow round trip refilled (10/s: one per 100 ms of a busy host's delay).
      let refused = await rs.consume(key, policy, 1, 0, 0);
      for (let i = 0; i < 50 && refused.allowed; i++) refused = await rs.consume(key, policy, 1, 0, 0);
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(algo === 'sliding-window' ? 1000 : 100);
      // Waiting exactly the answer (whole ms, as a timer sleeps) finds the unit there.
      await sleep(Math.ceil(refused.retryAfterMs) + (systemClock.timerSlackMs ?? 0));
      expect((await rs.consume(key, policy, 1, 0, 0)).allowed).toBe(true);
      // A cost above the burst can never pass.
      const never = await rs.consume(key, policy, 6, 0, 0);
      expect(never).toMatchObject({ allowed: false, retryAfterMs: Infinity });
      // The state leaves Redis by itself once idle.
      const gone = Date.now() + 5000;
      while ((await raw.exists(rs.keyOf(key, policy))) === 1 && Date.now() < gone) await sleep(50);
      expect(await raw.exists(rs.keyOf(key, policy))).toBe(0);
    });
  }

  it('a refused first request of an unseen key writes nothing', async () => {
    const rs = store.rateStore('unseen');
    const policy = ratePolicy({ algorithm: 'gcra', rate: 1, burst: 2 });
    const key = unique('k');
    expect((await rs.consume(key, policy, 3, 0, 0)).allowed).toBe(false);
    expect(await raw.exists(rs.keyOf(key, policy))).toBe(0);
  });

  it('long windows (quotas over hours and days): the refusal waits for the window, the TTL covers it', async () => {
    const rs = store.rateStore('quota');
    const day = 86_400_000;
    const daily = ratePolicy({ algorithm: 'sliding-window', limit: 3, windowMs: day, name: 'daily' });
    const hourly = ratePolicy({ algorithm: 'gcra', rate: 2, perMs: 3_600_000, burst: 2, name: 'hourly' });
    const key = unique('tenant');
    for (let i = 0; i < 3; i++) expect((await rs.consume(key, daily, 1, 0, 0)).allowed).toBe(true);
    const d = await rs.consume(key, daily, 1, 0, 0);
    expect(d.allowed).toBe(false);
    expect(d.retryAfterMs).toBeGreaterThan(0);
    expect(d.retryAfterMs).toBeLessThanOrEqual(2 * day);
    const ttl = await raw.pttl(rs.keyOf(key, daily));
    expect(ttl).toBeGreaterThan(day);
    expect(ttl).toBeLessThanOrEqual(2 * day);
    for (let i = 0; i < 2; i++) expect((await rs.consume(key, hourly, 1, 0, 0)).allowed).toBe(true);
    const h = await rs.consume(key, hourly, 1, 0, 0);
    expect(h.allowed).toBe(false);
    expect(h.retryAfterMs).toBeGreaterThan(1_700_000);
    expect(h.retryAfterMs).toBeLessThanOrEqual(1_800_000);
  });

  it('per-key overrides through KeyedRateLimiter: each key meters under its own policy', async () => {
    const lim = new KeyedRateLimiter({
      name: 'plans',
      policy: { algorithm: 'gcra', rate: 1, perMs: 60_000, burst: 2 },
      overrides: { gold: { algorithm: 'gcra', rate: 1, perMs: 60_000, burst: 5 }, metered: { algorithm: 'sliding-window', limit: 1, windowMs: 60_000 } },
      store: store.rateStore(unique('plans')),
    });
    const count = async (key: string): Promise<number> => {
      let n = 0;
      for (let i = 0; i < 8; i++) if ((await lim.admit({ key })).ok) n++;
      return n;
    };
    expect(await count('free')).toBe(2);
    expect(await count('gold')).toBe(5);
    expect(await count('metered')).toBe(1);
  });

  it('reservations: a caller within maxWaitMs waits for its units; an abort gives them back', async () => {
    const rs = store.rateStore(unique('wait'));
    const lim = new KeyedRateLimiter({ policy: { algorithm: 'gcra', rate: 20, burst: 1 }, maxWaitMs: 2000, store: rs });
    const first = await lim.admit({ key: 'k' });
    expect(first.ok).toBe(true);
    const t0 = performance.now();
    const second = await lim.admit({ key: 'k' });
    expect(second.ok).toBe(true);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(30); // ~50 ms of the rate, less the round trip
    const ac = new AbortController();
    const third = lim.admit({ key: 'k', signal: ac.signal });
    ac.abort();
    await expect(third).rejects.toMatchObject({ code: 'SLUICE_ERR_ABORTED' });
  });

  it('clock skew: limiters whose clocks are hours apart share one bucket exactly (Redis TIME decides)', async () => {
    const other = await RedisStore.connect({ url: svc.url, keyPrefix: store.config.keyPrefix, timeoutMs: 2000 });
    try {
      const skewed = (offset: number): Clock => ({ ...systemClock, now: () => performance.now() + offset });
      const policy = { algorithm: 'token-bucket', rate: 50, burst: 10 } as const;
      const name = unique('skew');
      const ahead = new KeyedRateLimiter({ policy, clock: skewed(3_600_000), store: store.rateStore(name) });
      const behind = new KeyedRateLimiter({ policy, clock: skewed(-3_600_000), store: other.rateStore(name) });
      const t0 = await redisNow();
      let admitted = 0;
      const end = Date.now() + 600;
      const run = async (l: KeyedRateLimiter): Promise<void> => {
        while (Date.now() < end) if ((await l.admit({ key: 'shared' })).ok) admitted++;
      };
      await Promise.all([run(ahead), run(behind), run(ahead), run(behind)]);
      const t = (await redisNow()) - t0;
      // At most burst + rate·t, whatever the callers' clocks say; and the bucket was used.
      expect(admitted).toBeLessThanOrEqual(10 + (50 * t) / 1000 + 1);
      expect(admitted).toBeGreaterThanOrEqual(10);
    } finally {
      await other.close();
    }
  });

  it('WRONGTYPE: a clear error naming the key; the foreign value is untouched', async () => {
    const rs = store.rateStore('wrongtype');
    const policy = ratePolicy({ algorithm: 'token-bucket', rate: 5 });
    const key = unique('k');
    await raw.rpush(rs.keyOf(key, policy), 'not', 'a', 'bucket');
    const err = await rs.consume(key, policy, 1, 0, 0).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StoreWrongTypeError);
    expect((err as StoreWrongTypeError).code).toBe('SLUICE_ERR_STORE_WRONGTYPE');
    expect((err as Error).message).toContain(rs.keyOf(key, policy));
    expect(await raw.lrange(rs.keyOf(key, policy), 0, -1)).toEqual(['not', 'a', 'bucket']);
    expect(store.health).toBe('shared'); // a misconfiguration is not an outage
    await raw.del(rs.keyOf(key, policy));
  });

  it('EVALSHA reloads the script after SCRIPT FLUSH (NOSCRIPT)', async () => {
    const rs = store.rateStore('noscript');
    const policy = ratePolicy({ algorithm: 'gcra', rate: 5 });
    expect((await rs.consume(unique('k'), policy, 1, 0, 0)).allowed).toBe(true);
    await raw.script('FLUSH');
    expect((await rs.consume(unique('k'), policy, 1, 0, 0)).allowed).toBe(true);
  });

  it('delete forgets a key under every algorithm; clear forgets the store’s keys only', async () => {
    const rs = store.rateStore(unique('del'));
    const keep = store.rateStore(unique('keep'));
    const policies = Object.values(POLICIES).map((p) => ratePolicy(p));
    for (const p of policies) await rs.consume('a', p, 5, 0, 0);
    await keep.consume('a', policies[0]!, 1, 0, 0);
    expect((await rs.consume('a', policies[1]!, 1, 0, 0)).allowed).toBe(false);
    expect(await rs.delete('a')).toBe(true);
    expect(await rs.delete('a')).toBe(false);
    for (const p of policies) expect((await rs.consume('a', p, 1, 0, 0)).facts.remaining).toBe(4);
    await rs.consume('b', policies[0]!, 1, 0, 0);
    await rs.clear();
    expect(await raw.keys(`${rs.base}*`)).toEqual([]);
    expect(await raw.exists(keep.keyOf('a', policies[0]!))).toBe(1);
  });

  it('options are validated once, naming the option', () => {
    expect(() => new RedisStore({ url: 'http://x' })).toThrow(/url: expected a Redis URL/);
    expect(() => new RedisStore({ url: 'redis://h:99999' })).toThrow(/url/);
    expect(() => new RedisStore({ keyPrefix: 'a{b' })).toThrow(/keyPrefix/);
    expect(() => new RedisStore({ timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => store.rateStore('x', { onStoreError: 'maybe' as never })).toThrow(/onStoreError: expected one of "open", "closed", "local"/);
    expect(() => store.rateStore('x', { instances: 0 })).toThrow(/instances/);
  });
});

const callBatch = (ops: BatchOp[], now: number): Promise<RateAnswer[]> => callRate(raw, ops, now);

async function redisNow(): Promise<number> {
  const [s, us] = await raw.time();
  return Number(s) * 1000 + Number(us) / 1000;
}
