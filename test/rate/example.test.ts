// The usage example from the rate module's report, run as written (with a virtual clock).
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import { KeyedRateLimiter, TokenBucket } from '../../src/rate/index.js';

describe('usage example', () => {
  it('runs', async () => {
    const clock = new VirtualClock();
    // --- example ---
    const perTenant = new KeyedRateLimiter({
      policy: { algorithm: 'gcra', rate: 100, perMs: 1000, burst: 20 }, // 100/s per tenant, bursts of 20
      overrides: { enterprise: { algorithm: 'gcra', rate: 1000, burst: 200, name: 'enterprise' } },
      maxKeys: 50_000, // bounded memory whatever the key stream (LRU + idle expiry)
      maxWaitMs: 250, // reserve and wait up to 250 ms instead of refusing
      clock,
    });
    const answer = await perTenant.admit({ key: 'acme', cost: 1 });
    if (!answer.ok) console.log(429, { 'retry-after': Math.ceil(answer.retryAfterMs / 1000), ...answer.facts });
    const global = new TokenBucket({ rate: 5000, burst: 500, clock });
    const permit = await global.acquire(); // throws RejectedError (retryAfterMs, facts) when over the rate
    // --- end ---
    expect(answer.ok).toBe(true);
    expect(permit.facts).toMatchObject({ limit: 500, remaining: 499 });
    for (let i = 0; i < 19; i++) await perTenant.admit({ key: 'acme' });
    const waited = perTenant.admit({ key: 'acme' });
    expect(waited).toBeInstanceOf(Promise);
    clock.advance(10);
    await expect(waited).resolves.toMatchObject({ ok: true });
  });
});
