// LeasedRateStore over the in-memory LeaseLedger (a gateway primary's, for its workers): a
// refusal's facts say when the key's bucket is full again — the gateway's refusal pacing
// pauses a refused connection no longer than that (refusal-pacer.ts ratePauseMs).
import { afterEach, describe, expect, it } from 'vitest';
import { batchOf } from '../../src/gateway/worker-share.js';
import { ratePolicy } from '../../src/rate/policy.js';
import type { GcraPolicy } from '../../src/rate/policy.js';
import { LeaseLedger } from '../../src/shared/lease-ledger.js';
import { LeasedRateStore } from '../../src/shared/leased-rate-store.js';
import type { SharedLimitStore } from '../../src/shared/limit-store.js';

const stores: LeasedRateStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

describe('LeasedRateStore: refusals', () => {
  it('a spent key is refused with the time its next unit comes, and a bucket full again only after a window (burst / rate), not then', async () => {
    // The ledger's clock stands still: no unit comes back during the test.
    const store = new LeasedRateStore(new LeaseLedger({ now: () => 1000 }).holder('w1'), { prefix: 'p:', holdMs: 1000, maxKeys: 10, batchOf: () => 0 });
    stores.push(store);
    // 2,000/s, burst 100: the whole bucket refills in 50 ms, one unit in 0.5 ms.
    const policy = ratePolicy({ algorithm: 'gcra', rate: 2000, perMs: 1000, burst: 100 });
    for (let i = 0; i < 100; i++) expect((await store.consume('k', policy, 1, 0, 0)).allowed).toBe(true);
    const refused = await store.consume('k', policy, 1, 0, 0);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBeCloseTo(0.5, 6);
    expect(refused.facts.resetMs).toBe(50);
    // Refused locally until the next unit: the same facts.
    const again = await store.consume('k', policy, 1, 0, 0);
    expect(again.allowed).toBe(false);
    expect(again.facts.resetMs).toBe(50);
  });
});

/**
 * Two workers' stores over one ledger, each call to it answered a round trip (`rttMs`) later —
 * the IPC of a busy host — on a virtual clock, ms by ms; `clients` closed-loop callers per
 * worker, each asking again the ms after its answer. How many all of them admitted, and by
 * how many units that count ever passed `rate × t + burst` (t by the ledger's clock).
 */
async function closedLoopOverLedger(policy: GcraPolicy, o: { readonly ms: number; readonly rttMs: number; readonly clients: number; readonly workers: number }): Promise<{ admitted: number; over: number }> {
  let now = 0;
  const ledger = new LeaseLedger({ now: () => now });
  const due: { at: number; settle: () => void }[] = [];
  const later = <T>(answer: () => T): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      // The ledger decides at once; the worker learns its answer a round trip after it asked.
      let v: T;
      try {
        v = answer();
      } catch (err) {
        due.push({ at: now + o.rttMs, settle: () => reject(err as Error) });
        return;
      }
      due.push({ at: now + o.rttMs, settle: () => resolve(v) });
    });
  const workers = Array.from({ length: o.workers }, (_x, i) => {
    const id = `w${i}`;
    const remote: SharedLimitStore = {
      takeTokens: (key, p, min, max, table) => later(() => ledger.takeTokens(key, p, min, max, table)),
      returnTokens: (key, p, n, table) => later(() => ledger.returnTokens(key, p, n, table)),
      takeSlots: (name, limit, want) => later(() => ledger.takeSlots(id, name, limit, want)),
      returnSlots: (name, n) => later(() => ledger.returnSlots(id, name, n)),
      close: () => later(() => ledger.drop(id)),
    };
    const store = new LeasedRateStore(remote, { prefix: 'p:', holdMs: 20, maxKeys: 10, batchOf: (p) => batchOf(p, o.workers), now: () => now });
    stores.push(store);
    return store;
  });
  const bound = (ms: number): number => (policy.rate * ms) / policy.perMs + policy.burst;
  let admitted = 0;
  let over = 0;
  const busy = new Set<number>();
  const flush = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  for (; now <= o.ms; now++) {
    const answers = due.filter((x) => x.at <= now);
    due.splice(0, due.length, ...due.filter((x) => x.at > now));
    for (const a of answers) a.settle();
    await flush();
    workers.forEach((store, w) => {
      for (let c = 0; c < o.clients; c++) {
        const id = w * o.clients + c;
        if (busy.has(id)) continue;
        const answer = store.consume('k', policy, 1, now, 0);
        if (!(answer instanceof Promise)) {
          if (answer.allowed) admitted++;
          continue;
        }
        busy.add(id);
        void answer.then((d) => {
          if (d.allowed) admitted++;
          busy.delete(id);
        });
      }
    });
    await flush();
    // The bucket's bound at every ms, by the ledger's clock: never a unit more.
    over = Math.max(over, admitted - Math.floor(bound(now) + 1e-9));
  }
  return { admitted, over };
}

describe('LeasedRateStore: two workers over a slow lease channel', () => {
  for (const rate of [100, 150, 400, 2000]) {
    it(`${rate}/s, burst ${rate / 10}, 20 ms round trips: all of rate × t + burst admitted (within 2%), never a unit more`, async () => {
      const policy = ratePolicy({ algorithm: 'gcra', rate, perMs: 1000, burst: rate / 10 }) as GcraPolicy;
      const ms = 2_000;
      const r = await closedLoopOverLedger(policy, { ms, rttMs: 20, clients: 50, workers: 2 });
      const allowed = (rate * ms) / 1000 + rate / 10;
      expect(r.over).toBe(0);
      // Before: one caller's units per round trip per worker (plus a batch of 5 ms of the rate):
      // 100/s admitted 100/s, 150/s 100/s, 400/s 300/s, 2000/s 1100/s.
      expect(r.admitted).toBeGreaterThanOrEqual(0.98 * allowed);
    });
  }
});

describe('LeasedRateStore: a store call that fails', () => {
  it('refuses every caller that waited for it store_unavailable, as the caller that made it — none gets the error', async () => {
    const errors: unknown[] = [];
    const down: SharedLimitStore = {
      takeTokens: () => new Promise((_resolve, reject) => setImmediate(() => reject(new Error('the lease channel closed')))),
      returnTokens: () => Promise.resolve(),
      takeSlots: () => Promise.reject(new Error('unused')),
      returnSlots: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const store = new LeasedRateStore(down, { prefix: 'p:', holdMs: 1000, maxKeys: 10, batchOf: () => 0, onError: (err) => errors.push(err) });
    stores.push(store);
    const policy = ratePolicy({ algorithm: 'gcra', rate: 100, perMs: 1000, burst: 10 });
    // One call in flight, two callers waiting for it.
    const answers = await Promise.allSettled([0, 1, 2].map(async () => store.consume('k', policy, 1, 0, 0)));
    expect(answers.map((a) => a.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    for (const a of answers) expect(a.status === 'fulfilled' ? a.value : undefined).toMatchObject({ allowed: false, unavailable: true, retryAfterMs: 1000 });
    // Told once, by the caller that made the call.
    expect(errors).toHaveLength(1);
  });
});
