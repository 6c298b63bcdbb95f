// A request a later gate refuses spends nothing at the rate gates before it: the chain gives
// their units back (hostile, session 25: through the gateway, 503s spent a daily quota).
import { describe, expect, it } from 'vitest';
import { compose, ConcurrencyGate, KeyedRateLimiter, TokenBucket, VirtualClock } from '../../src/index.js';

describe('a refusal by a later gate', () => {
  it('gives a token bucket its units back', async () => {
    const clock = new VirtualClock();
    const rate = new TokenBucket({ name: 'rate', rate: 1 / 3600, burst: 2, clock });
    const gate = compose(rate, new ConcurrencyGate({ name: 'pool', limit: 1, clock }));
    const a = await gate.admit();
    expect(a.ok).toBe(true);
    const b = await gate.admit();
    expect(b.ok ? 'admitted' : b.reason).toBe('concurrency');
    if (a.ok) a.release();
    const c = await gate.admit();
    expect(c.ok ? 'admitted' : c.reason).toBe('admitted');
  });

  it('gives a keyed limiter its units back, per key', async () => {
    const clock = new VirtualClock();
    const rate = new KeyedRateLimiter({ name: 'quota', policy: { limit: 2, windowMs: 86_400_000, algorithm: 'sliding-window' }, clock });
    const gate = compose(rate, new ConcurrencyGate({ name: 'pool', limit: 1, clock }));
    const a = await gate.admit({ key: 'k' });
    for (let i = 0; i < 5; i++) expect((await gate.admit({ key: 'k' })).ok).toBe(false);
    if (a.ok) a.release();
    const after = [await gate.admit({ key: 'k' })].map((x) => (x.ok ? 'admitted' : x.reason));
    expect(after).toEqual(['admitted']);
  });
});
