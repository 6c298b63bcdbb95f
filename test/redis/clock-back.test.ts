// The Redis scripts on a Redis whose clock went back (stepped back by NTP, or a failover to a
// replica whose clock is behind): stored timestamps are then in the future of TIME. Simulated
// by planting such state under the test's own keyPrefix. Before, a token bucket or sliding
// window key planted 50 s ahead was refused until TIME caught up (Retry-After 50 s); now the
// script brings the state to its TIME as it was — admitted within one period, no unit given.
// GCRA too, from its stored reading beside the TAT (before: refused for 50 s).
// Likewise the lease script (a crashed holder's slots, an epoch's fence) and the shared
// breaker's open time: held a TTL (an open time) from the step at most, not its length.
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ratePolicy } from '../../src/rate/index.js';
import type { RatePolicy } from '../../src/rate/index.js';
import type { RedisStore } from '../../src/redis/index.js';
import { stateKey } from '../../src/redis/keys.js';
import { BREAKER_SCRIPT, LEASE_SCRIPT } from '../../src/redis/lease-scripts.js';
import type { RedisRateStore } from '../../src/redis/redis-rate-store.js';
import { sharedRedis, unique, usePrefixedStore } from './servers.js';

const svc = await sharedRedis();
let store: RedisStore;
let raw: Redis;

if (svc.up) {
  usePrefixedStore(svc.url, 'clockback', (s, r) => {
    store = s;
    raw = r;
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function redisNow(): Promise<number> {
  const [s, us] = await raw.time();
  return Number(s) * 1000 + Number(us) / 1000;
}

/** A binary state as the scripts store it: byte 1, then the doubles little-endian. */
function packed(...xs: number[]): Buffer {
  const b = Buffer.alloc(1 + 8 * xs.length);
  b[0] = 1;
  xs.forEach((x, i) => b.writeDoubleLE(x, 1 + 8 * i));
  return b;
}

/** `n` consumes of cost 1 at once (one batch, when they gather); how many were allowed, the largest Retry-After. */
async function burst(rs: RedisRateStore, key: string, p: RatePolicy, n: number): Promise<{ allowed: number; retryAfterMs: number }> {
  const ds = await Promise.all(Array.from({ length: n }, () => rs.consume(key, p, 1, 0, 0)));
  return { allowed: ds.filter((d) => d.allowed).length, retryAfterMs: Math.max(...ds.map((d) => d.retryAfterMs)) };
}

/**
 * A consume of `key` refused for at most `horizon` ms; the refusal wrote the state brought to
 * Redis's time, so the key expires with it, not 50 s later; admitted once that wait is over.
 */
async function refusedThenAdmitted(rs: RedisRateStore, key: string, p: RatePolicy, horizon: number): Promise<void> {
  const d = await rs.consume(key, p, 1, 0, 0);
  expect(d.allowed).toBe(false);
  expect(d.retryAfterMs).toBeGreaterThan(0);
  expect(d.retryAfterMs).toBeLessThanOrEqual(horizon);
  expect(await raw.pttl(rs.keyOf(key, p))).toBeLessThanOrEqual(3000);
  await sleep(d.retryAfterMs + 20);
  expect((await rs.consume(key, p, 1, 0, 0)).allowed).toBe(true);
}

describe.skipIf(!svc.up)('rate scripts on state from a later Redis time', () => {
  it('token bucket: a spent bucket 50 s ahead is refused for one unit’s time, then admits; its TTL follows', async () => {
    const p = ratePolicy({ algorithm: 'token-bucket', rate: 10, burst: 5, name: 'tb' });
    const rs = store.rateStore('tb');
    const key = unique('k');
    await raw.set(stateKey(rs.base, key, 'token-bucket'), packed(0, (await redisNow()) + 50_000), 'PX', 60_000);
    await refusedThenAdmitted(rs, key, p, 100);
  });

  it('token bucket: tokens held 50 s ahead are there, exactly, and no more', async () => {
    const p = ratePolicy({ algorithm: 'token-bucket', rate: 1, perMs: 60_000, burst: 5, name: 'tb' });
    const rs = store.rateStore('tb');
    const key = unique('k');
    await raw.set(stateKey(rs.base, key, 'token-bucket'), packed(3, (await redisNow()) + 50_000), 'PX', 60_000);
    const r = await burst(rs, key, p, 8);
    expect(r.allowed).toBe(3);
    expect(r.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect((await burst(rs, key, p, 4)).allowed).toBe(0);
  });

  it('sliding window: a spent window 50 windows ahead is refused within two windows, then admits', async () => {
    const p = ratePolicy({ algorithm: 'sliding-window', limit: 4, windowMs: 300, name: 'sw' });
    const rs = store.rateStore('sw');
    const key = unique('k');
    await raw.set(stateKey(rs.base, key, 'sliding-window'), packed(Math.floor((await redisNow()) / 300) + 50, 0, 4), 'PX', 60_000);
    const d = await rs.consume(key, p, 1, 0, 0);
    expect(d.allowed).toBe(false);
    expect(d.retryAfterMs).toBeLessThanOrEqual(600);
    await sleep(d.retryAfterMs + 20);
    expect((await rs.consume(key, p, 1, 0, 0)).allowed).toBe(true);
  });

  it('sliding window: what a window 50 windows ahead counted is counted now, exactly', async () => {
    const p = ratePolicy({ algorithm: 'sliding-window', limit: 10, windowMs: 600_000, name: 'sw' });
    const rs = store.rateStore('sw');
    const key = unique('k');
    // 3 in its previous window and 4 in its current: 7 counted now, 3 left.
    await raw.set(stateKey(rs.base, key, 'sliding-window'), packed(Math.floor((await redisNow()) / 600_000) + 50, 3, 4), 'PX', 60_000);
    const r = await burst(rs, key, p, 8);
    expect(r.allowed).toBe(3);
    expect(r.retryAfterMs).toBeLessThanOrEqual(1_200_000);
  });
});

describe.skipIf(!svc.up)('GCRA in Redis on a later Redis time, and its state of earlier versions', () => {
  /** GCRA's state as this version stores it: byte 2, then tat and last (the reading it was written at). */
  const gcraState = (tat: number, last: number): Buffer => {
    const b = packed(tat, last);
    b[0] = 2;
    return b;
  };

  it('a spent key 50 s ahead (TAT and its reading) is refused for one cell’s time, then admits; its TTL follows', async () => {
    const p = ratePolicy({ algorithm: 'gcra', rate: 10, burst: 5, name: 'g' });
    const rs = store.rateStore('g');
    const key = unique('k');
    const t = await redisNow();
    // Spent at t + 50 s: TAT one burst (500 ms) past that reading.
    await raw.set(stateKey(rs.base, key, 'gcra'), gcraState(t + J + 500, t + J), 'PX', 60_000);
    await refusedThenAdmitted(rs, key, p, 100);
  });

  it('what a key 50 s ahead owed is owed now, exactly: reservations of waiting callers are kept', async () => {
    const p = ratePolicy({ algorithm: 'gcra', rate: 1, perMs: 60_000, burst: 5, name: 'g' });
    const rs = store.rateStore('g');
    const key = unique('k');
    const t = await redisNow();
    // Owing 2 cells (2 min) at a reading 50 s ahead: 3 of the burst of 5 are there, no more.
    await raw.set(stateKey(rs.base, key, 'gcra'), gcraState(t + J + 120_000, t + J), 'PX', 60_000);
    const r = await burst(rs, key, p, 8);
    expect(r.allowed).toBe(3);
    expect(r.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect((await burst(rs, key, p, 4)).allowed).toBe(0);
  });

  it('an earlier version’s state (byte 1, TAT alone) is read as it decided it, and rewritten with its reading', async () => {
    const p = ratePolicy({ algorithm: 'gcra', rate: 1, perMs: 60_000, burst: 5, name: 'g' });
    const rs = store.rateStore('g');
    const key = unique('k');
    const k = stateKey(rs.base, key, 'gcra');
    const t = await redisNow();
    await raw.set(k, packed(t + 120_000), 'PX', 600_000); // 2 cells owed: 3 there
    expect((await burst(rs, key, p, 2)).allowed).toBe(2);
    const b = (await raw.getBuffer(k))!;
    expect(b.length).toBe(17);
    expect(b[0]).toBe(2);
    expect(b.readDoubleLE(1)).toBe(t + 120_000 + 2 * 60_000);
    expect(b.readDoubleLE(9)).toBeGreaterThanOrEqual(t);
    expect((await burst(rs, key, p, 3)).allowed).toBe(1);
  });
});

const J = 50_000;

/** Every time the lease script stored under `tag`, moved J later: what a step back of Redis's clock by J leaves. */
async function stepBack(tag: string): Promise<void> {
  const [L, W, E] = leaseKeys(tag);
  const z = await raw.zrangebyscore(L, '-inf', '+inf', 'WITHSCORES');
  for (let i = 0; i < z.length; i += 2) await raw.zadd(L, Number(z[i + 1]) + J, z[i]!);
  const w = await raw.hgetall(W);
  for (const [h, v] of Object.entries(w)) {
    const [want, until] = v.split('|');
    await raw.hset(W, h, `${want}|${Number(until) + J}`);
  }
  const e = await raw.hgetall(E);
  for (const f of ['b', 'f', 'l']) if (e[f] !== undefined && e[f] !== '0') await raw.hset(E, f, String(Number(e[f]) + J));
}

function leaseKeys(tag: string): [string, string, string] {
  const base = `${store.config.keyPrefix}{${tag}}`;
  return [`${base}:l`, `${base}:w`, `${base}:e`];
}

interface LeaseReply {
  n: number;
  used: number;
  epoch: string;
  fenced: boolean;
  lost: string[];
}

/** One call of the lease script (limit 2, TTL 300 ms). */
async function lease(tag: string, op: 'a' | 'n', holder: string, epoch: string, count: number, ids: string[]): Promise<LeaseReply> {
  const r = (await raw.eval(LEASE_SCRIPT, 3, ...leaseKeys(tag), op, 2, 300, holder, ids.length, epoch, count, ...ids)) as (number | string)[];
  return { n: Number(r[0]), used: Number(r[2]), epoch: String(r[3]), fenced: r[4] === 1, lost: r.slice(5).map(String) };
}

/**
 * Acquire `ids` for `holder`, a call every 50 ms for `forMs` (the calls keep the lease set
 * alive, as a busy limit's do): how many were granted in all, by the end.
 */
async function acquireFor(tag: string, holder: string, epoch: string, ids: string[], forMs: number): Promise<number> {
  let want = ids;
  for (let waited = 0; waited <= forMs && want.length > 0; waited += 50) {
    want = want.slice((await lease(tag, 'a', holder, epoch, 0, want)).n);
    await sleep(50);
  }
  return ids.length - want.length;
}

describe.skipIf(!svc.up)('lease and breaker scripts on times from a later Redis time', () => {
  it('a crashed holder’s leases come back a TTL after the step back, not 50 s later', async () => {
    const tag = unique('lease');
    const a = await lease(tag, 'a', 'h1', '', 0, ['x1', 'x2']);
    expect(a.n).toBe(2);
    await stepBack(tag);
    expect((await lease(tag, 'a', 'h2', a.epoch, 0, ['y1', 'y2'])).n).toBe(0); // still live, for a TTL
    expect(await acquireFor(tag, 'h2', a.epoch, ['y1', 'y2'], 800)).toBe(2);
    expect(await raw.zcard(leaseKeys(tag)[0])).toBe(2);
  });

  it('a renewal across the step back keeps every lease, and they still lapse a TTL after it', async () => {
    const tag = unique('lease');
    const a = await lease(tag, 'a', 'h1', '', 0, ['x1', 'x2']);
    await stepBack(tag);
    const renewed = await lease(tag, 'n', 'h1', a.epoch, 2, ['x1', 'x2']);
    expect(renewed).toMatchObject({ n: 2, used: 2, fenced: false, lost: [] });
    const t = await redisNow();
    for (const id of ['x1', 'x2']) expect(Number(await raw.zscore(leaseKeys(tag)[0], id))).toBeLessThanOrEqual(t + 300);
    expect((await lease(tag, 'a', 'h2', a.epoch, 0, ['y1'])).n).toBe(0);
    expect(await acquireFor(tag, 'h2', a.epoch, ['y1', 'y2'], 800)).toBe(2);
  });

  it('a fence raised after the step back ends a TTL later, not 50 s later', async () => {
    const tag = unique('lease');
    const a = await lease(tag, 'a', 'h1', '', 0, ['x1']);
    await stepBack(tag);
    // A holder of another epoch: its leases were lost with work on them — the fence goes up.
    expect((await lease(tag, 'a', 'h3', 'stale', 0, ['z1'])).fenced).toBe(true);
    expect(await acquireFor(tag, 'h2', a.epoch, ['y1', 'y2'], 800)).toBe(2);
  });

  it('a shared breaker’s open time left is never more than the open time set', async () => {
    const key = `${store.config.keyPrefix}${unique('breaker')}`;
    const setAt = await redisNow();
    await raw.eval(BREAKER_SCRIPT, 1, key, 'set', 'open', 1000);
    await raw.hset(key, 'u', String((await redisNow()) + J + 1000));
    const r = (await raw.eval(BREAKER_SCRIPT, 1, key, 'get')) as unknown[];
    const gotAt = await redisNow();
    expect(r[1]).toBe('open');
    expect(Number(r[2])).toBeLessThanOrEqual(1000);
    // Less only by the time that passed, by Redis's clock (a busy host takes its time between the calls).
    expect(Number(r[2])).toBeGreaterThanOrEqual(1000 - (gotAt - setAt) - 1);
    expect(Number(r[2])).toBeGreaterThan(0);
    await sleep(1100);
    expect(Number(((await raw.eval(BREAKER_SCRIPT, 1, key, 'get')) as unknown[])[2])).toBe(0);
  });
});
