// A policy too slow to say when to retry: before, new TokenBucket({ rate: 1e-12 }) was taken and
// its second caller was refused with retryAfterMs 1e15 (31,700 years) and a Retry-After of
// 2147483647 s, the header's cap: a time that was not true. A cost above the burst was, and
// stays, an honest "never": retryAfterMs Infinity and no Retry-After.
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, VirtualClock } from '../../src/core/index.js';
import { retryAfterSeconds } from '../../src/http/ratelimit-headers.js';
import { Gcra, KeyedRateLimiter, SlidingWindow, TokenBucket } from '../../src/rate/index.js';
import { MAX_UNIT_MS } from '../../src/rate/policy.js';

const thrown = (f: () => unknown): InvalidOptionError => {
  try {
    f();
  } catch (err) {
    return err as InvalidOptionError;
  }
  throw new Error('expected a throw');
};

describe('rate policies slower than a Retry-After can say', () => {
  it('a token bucket or GCRA whose one unit takes longer than 68 years is refused, naming rate', () => {
    for (const make of [(o: object) => new TokenBucket(o as never), (o: object) => new Gcra(o as never)]) {
      const e = thrown(() => make({ rate: 1e-12 }));
      expect(e).toBeInstanceOf(InvalidOptionError);
      expect(e.option).toBe('rate');
      expect(e.message).toMatch(/^rate: expected a rate giving one unit within 2147483647000 ms \(perMs \/ rate, here 1000 \/ rate; about 68 years, the longest Retry-After a client can be told\), received 1e-12$/);
      // perMs counts: a normal rate over a 100-year perMs is as slow.
      expect(thrown(() => make({ rate: 1, perMs: 100 * 365 * 86_400_000 })).option).toBe('rate');
      // At the bound exactly: taken.
      expect(() => make({ rate: 1, perMs: MAX_UNIT_MS })).not.toThrow();
    }
  });

  it('a sliding window longer than 68 years is refused, naming windowMs', () => {
    expect(thrown(() => new SlidingWindow({ limit: 1, windowMs: MAX_UNIT_MS * 2 })).option).toBe('windowMs');
    expect(() => new SlidingWindow({ limit: 1, windowMs: MAX_UNIT_MS })).not.toThrow();
  });

  it('a keyed limiter names the policy field', () => {
    expect(thrown(() => new KeyedRateLimiter({ policy: { algorithm: 'token-bucket', rate: 1e-12 } } as never)).option).toBe('policy.rate');
  });

  it('the slowest policy taken refuses with a Retry-After that is true', () => {
    const clock = new VirtualClock();
    const tb = new TokenBucket({ rate: 1, perMs: MAX_UNIT_MS, clock });
    expect(tb.tryAdmit().ok).toBe(true);
    const r = tb.tryAdmit();
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.retryAfterMs).toBe(MAX_UNIT_MS);
    expect(retryAfterSeconds(r.retryAfterMs, r.facts === undefined ? [] : [r.facts])).toBe(2 ** 31 - 1);
  });

  it('a cost above the burst or the window limit is "never": retryAfterMs Infinity, no Retry-After', () => {
    const clock = new VirtualClock();
    for (const g of [new TokenBucket({ rate: 1, burst: 5, clock }), new Gcra({ rate: 1, burst: 5, clock }), new SlidingWindow({ limit: 5, windowMs: 1000, clock })]) {
      const r = g.tryAdmit({ cost: 6 });
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.reason).toBe('rate_limited');
      expect(r.retryAfterMs).toBe(Infinity);
      expect(retryAfterSeconds(r.retryAfterMs, r.facts === undefined ? [] : [r.facts])).toBeUndefined();
    }
  });
});
