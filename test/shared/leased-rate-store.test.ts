// LeasedRateStore over the in-memory LeaseLedger (a gateway primary's, for its workers): a
// refusal's facts say when the key's bucket is full again — the gateway's refusal pacing
// pauses a refused connection no longer than that (refusal-pacer.ts ratePauseMs).
import { afterEach, describe, expect, it } from 'vitest';
import { ratePolicy } from '../../src/rate/policy.js';
import { LeaseLedger } from '../../src/shared/lease-ledger.js';
import { LeasedRateStore } from '../../src/shared/leased-rate-store.js';

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
