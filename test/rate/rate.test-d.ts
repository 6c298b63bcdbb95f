import { expectTypeOf, test } from 'vitest';
import type { Admission, Gate, GateStats } from '../../src/core/index.js';
import { SlidingWindow, TokenBucket } from '../../src/rate/index.js';
import type { Gcra, KeyedRateLimiter, MemoryStore, KeyedRateStats, RateDecision, RatePolicy, RatePolicyInput, RateStore } from '../../src/rate/index.js';

test('rate gates implement the gate contract', () => {
  expectTypeOf<TokenBucket>().toMatchTypeOf<Gate>();
  expectTypeOf<Gcra>().toMatchTypeOf<Gate>();
  expectTypeOf<SlidingWindow>().toMatchTypeOf<Gate>();
  expectTypeOf<KeyedRateLimiter>().toMatchTypeOf<Gate>();
  expectTypeOf<TokenBucket['admit']>().returns.toEqualTypeOf<Admission | Promise<Admission>>();
  expectTypeOf<ReturnType<KeyedRateLimiter['stats']>>().toEqualTypeOf<KeyedRateStats>();
  expectTypeOf<KeyedRateStats>().toMatchTypeOf<GateStats & { keys: number }>();
});

test('stores: the memory store is a RateStore and may answer synchronously', () => {
  expectTypeOf<MemoryStore>().toMatchTypeOf<RateStore>();
  expectTypeOf<MemoryStore['consume']>().returns.toEqualTypeOf<RateDecision>();
  expectTypeOf<RateStore['consume']>().returns.toEqualTypeOf<RateDecision | Promise<RateDecision>>();
});

test('policies are discriminated by algorithm; options are checked', () => {
  expectTypeOf<{ algorithm: 'gcra'; rate: number }>().toMatchTypeOf<RatePolicyInput>();
  expectTypeOf<{ algorithm: 'sliding-window'; rate: number }>().not.toMatchTypeOf<RatePolicyInput>();
  expectTypeOf<RatePolicy['algorithm']>().toEqualTypeOf<'token-bucket' | 'gcra' | 'sliding-window'>();
  // @ts-expect-error a sliding window has no rate
  new SlidingWindow({ limit: 1, windowMs: 1, rate: 2 });
  // @ts-expect-error the rate is required
  new TokenBucket({ burst: 2 });
});
