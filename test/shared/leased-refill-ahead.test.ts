// LeasedRateStore's refill ahead (refillAt), on a virtual clock over the in-memory LeaseLedger
// whose answers come a round trip later: callers at a steady pace never wait for the store while
// it answers within the time the tokens left last; the bound rate·t + burst still holds; and
// what it costs — tokens held per key — stays within refillAt + batch + 1.
import { afterEach, describe, expect, it } from 'vitest';
import { ratePolicy } from '../../src/rate/policy.js';
import type { GcraPolicy } from '../../src/rate/policy.js';
import { LeaseLedger } from '../../src/shared/lease-ledger.js';
import { LeasedRateStore } from '../../src/shared/leased-rate-store.js';
import type { LeasedRateStoreOptions } from '../../src/shared/leased-rate-store.js';
import type { SharedLimitStore } from '../../src/shared/limit-store.js';

const stores: LeasedRateStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

/** A ledger reached over a link of `rttMs` on the virtual clock `clock.now`; `step()` moves 1 ms and delivers what is due. */
function slowLedger(rttMs: number): { clock: { now: number }; remote: SharedLimitStore; ledger: LeaseLedger; calls: { takes: number; returned: number }; step: () => Promise<void> } {
  const clock = { now: 0 };
  const ledger = new LeaseLedger({ now: () => clock.now });
  const due: { at: number; settle: () => void }[] = [];
  const calls = { takes: 0, returned: 0 };
  const later = <T>(answer: () => T): Promise<T> =>
    new Promise<T>((resolve) => {
      const v = answer();
      due.push({ at: clock.now + rttMs, settle: () => resolve(v) });
    });
  const remote: SharedLimitStore = {
    takeTokens: (key, p, min, max, table) => {
      calls.takes++;
      return later(() => ledger.takeTokens(key, p, min, max, table));
    },
    returnTokens: (key, p, n, table) => {
      calls.returned += n;
      return later(() => ledger.returnTokens(key, p, n, table));
    },
    takeSlots: () => Promise.reject(new Error('unused')),
    returnSlots: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  const flush = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  const step = async (): Promise<void> => {
    clock.now++;
    const ready = due.filter((x) => x.at <= clock.now);
    due.splice(0, due.length, ...due.filter((x) => x.at > clock.now));
    for (const a of ready) a.settle();
    await flush();
  };
  return { clock, remote, ledger, calls, step };
}

/**
 * One caller of key 'k' every `everyMs` for `ms`, over a link of `rttMs`: how many of its calls
 * waited for the store (a promise) once the first was answered, how many were admitted, the most tokens
 * the store held for the key, and by how much the admitted ever passed rate·t + burst.
 */
async function steady(policy: GcraPolicy, o: { ms: number; everyMs: number; rttMs: number; batch: number; refillAt?: number }): Promise<{ calls: number; waited: number; admitted: number; maxHeld: number; over: number; takes: number }> {
  const link = slowLedger(o.rttMs);
  const options: LeasedRateStoreOptions = { prefix: 'p:', holdMs: 1000, maxKeys: 10, batchOf: () => o.batch, now: () => link.clock.now, ...(o.refillAt === undefined ? {} : { refillAt: () => o.refillAt! }) };
  const store = new LeasedRateStore(link.remote, options);
  stores.push(store);
  const r = { calls: 0, waited: 0, admitted: 0, maxHeld: 0, over: 0 };
  // Whether the first call was answered: calls before that wait for it, whatever the store does.
  let started = false;
  for (; link.clock.now <= o.ms; await link.step()) {
    if (link.clock.now % o.everyMs === 0) {
      const answer = store.consume('k', policy, 1, link.clock.now, 0);
      r.calls++;
      if (answer instanceof Promise) {
        if (started) r.waited++;
        void answer.then((d) => {
          started = true;
          if (d.allowed) r.admitted++;
        });
      } else if (answer.allowed) r.admitted++;
    }
    r.maxHeld = Math.max(r.maxHeld, store.held);
    r.over = Math.max(r.over, r.admitted - Math.floor((policy.rate * link.clock.now) / policy.perMs + policy.burst + 1e-9));
  }
  return { ...r, takes: link.calls.takes };
}

describe('LeasedRateStore: refill ahead', () => {
  // 1,000/s burst 100: a caller every 2 ms (500/s) never meets the limit.
  const roomy = ratePolicy({ algorithm: 'gcra', rate: 1000, perMs: 1000, burst: 100 }) as GcraPolicy;

  it('a caller at a steady pace never waits for the store after its first call, while the store answers within the time its tokens left last', async () => {
    // batch 4, refill at 2 tokens left: 2 more calls (4 ms) cover a 3 ms round trip.
    const r = await steady(roomy, { ms: 2000, everyMs: 2, rttMs: 3, batch: 4, refillAt: 2 });
    expect(r.calls).toBe(1001);
    expect(r.waited).toBe(0);
    expect(r.admitted).toBe(1001);
    // The batch is the same: one take per batch + 1 tokens (the first call's too).
    expect(r.takes).toBeLessThanOrEqual(Math.ceil(1001 / 5) + 1);
    // What it costs: tokens held per key up to refillAt + batch + 1, not batch.
    expect(r.maxHeld).toBeLessThanOrEqual(2 + 4 + 1);
    expect(r.over).toBe(0);
  });

  it('without it (the default of LeasedRateStore), every batch + 1-th call waits a round trip', async () => {
    const r = await steady(roomy, { ms: 2000, everyMs: 2, rttMs: 3, batch: 4 });
    expect(r.waited).toBeGreaterThanOrEqual(Math.floor(1001 / 5) - 2);
    expect(r.maxHeld).toBeLessThanOrEqual(4);
  });

  it('a key spent faster than its rate: no unit beyond rate·t + burst, and refusals from the ahead call are kept locally until their Retry-After', async () => {
    // 200/s burst 20, a caller every ms (1,000/s): the bucket binds.
    const tight = ratePolicy({ algorithm: 'gcra', rate: 200, perMs: 1000, burst: 20 }) as GcraPolicy;
    const r = await steady(tight, { ms: 2000, everyMs: 1, rttMs: 3, batch: 4, refillAt: 2 });
    expect(r.over).toBe(0);
    // Most of rate·t + burst admitted (the tokens held at the end are not spent yet).
    expect(r.admitted).toBeGreaterThanOrEqual(0.95 * (200 * 2 + 20));
    // Refused calls do not each cost a take: a refusal is cached until its Retry-After (5 ms a unit).
    expect(r.takes).toBeLessThan(r.calls / 2);
  });

  it('tokens an ahead call brings to a key given back meanwhile go back to the store at once', async () => {
    const link = slowLedger(3);
    const store = new LeasedRateStore(link.remote, { prefix: 'p:', holdMs: 1000, maxKeys: 10, batchOf: () => 4, now: () => link.clock.now, refillAt: () => 2 });
    stores.push(store);
    const first = store.consume('k', roomy, 1, 0, 0);
    for (let i = 0; i < 3; i++) await link.step();
    expect(await first).toMatchObject({ allowed: true });
    // 4 held; two spends leave 2: the ahead call goes.
    for (let i = 0; i < 2; i++) expect(store.consume('k', roomy, 1, 0, 0)).toMatchObject({ allowed: true });
    expect(link.calls.takes).toBe(2);
    expect(store.delete('k')).toBe(true);
    expect(link.calls.returned).toBe(2);
    for (let i = 0; i < 5; i++) await link.step();
    // The ahead call's 5 went back too: nothing is held, nothing kept from the bucket.
    expect(link.calls.returned).toBe(2 + 5);
    expect(store.held).toBe(0);
  });
});
