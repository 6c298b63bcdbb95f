import { describe, expectTypeOf, it } from 'vitest';
import type { Admission, Gate, GateStats } from '../../src/core/index.js';
import { CircuitBreaker, consecutiveFailures, countWindow, timeWindow } from '../../src/breaker/index.js';
import type { BreakerOptions, BreakerSnapshot, BreakerState, BreakerStats, TripRule } from '../../src/breaker/index.js';
import { RetryPolicy } from '../../src/retry/index.js';
import type { AdaptiveThrottle, AdaptiveThrottleStats, Jitter, RetryOptions } from '../../src/retry/index.js';

describe('breaker and retry types', () => {
  it('the breaker and the throttle are gates whose answer is always immediate', () => {
    expectTypeOf<CircuitBreaker>().toMatchTypeOf<Gate>();
    expectTypeOf<AdaptiveThrottle>().toMatchTypeOf<Gate>();
    expectTypeOf<CircuitBreaker['admit']>().returns.toEqualTypeOf<Admission>();
    expectTypeOf<AdaptiveThrottle['admit']>().returns.toEqualTypeOf<Admission>();
    expectTypeOf<BreakerStats>().toMatchTypeOf<GateStats>();
    expectTypeOf<AdaptiveThrottleStats>().toMatchTypeOf<GateStats>();
  });

  it('states are string literals, rules are trip rules of their own state', () => {
    expectTypeOf<BreakerState>().toEqualTypeOf<'closed' | 'open' | 'half-open' | 'forced-open' | 'disabled'>();
    expectTypeOf<Jitter>().toEqualTypeOf<'none' | 'full' | 'equal' | 'decorrelated'>();
    expectTypeOf(consecutiveFailures()).toMatchTypeOf<TripRule>();
    expectTypeOf(countWindow()).toMatchTypeOf<TripRule>();
    expectTypeOf(timeWindow()).toMatchTypeOf<TripRule>();
    expectTypeOf<BreakerSnapshot['version']>().toEqualTypeOf<1>();
  });

  it('execute infers the result type', () => {
    const b = new CircuitBreaker();
    expectTypeOf(b.execute(() => 42)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(b.execute(async () => 'x')).toEqualTypeOf<Promise<string>>();
    const p = new RetryPolicy();
    expectTypeOf(p.execute(async (signal, attempt) => ({ signal, attempt }))).toEqualTypeOf<Promise<{ signal: AbortSignal; attempt: number }>>();
  });

  it('options are readonly', () => {
    expectTypeOf<BreakerOptions['openMs']>().toEqualTypeOf<number | undefined>();
    // @ts-expect-error readonly
    const o: BreakerOptions = {}; o.openMs = 1;
    // @ts-expect-error readonly
    const r: RetryOptions = {}; r.maxAttempts = 1;
  });
});
