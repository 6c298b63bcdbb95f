import { describe, expectTypeOf, it } from 'vitest';
import type { Gate, Permit } from '../../src/core/index.js';
import { CircuitBreaker, consecutiveFailures } from '../../src/breaker/index.js';
import { AdaptiveThrottle, RetryPolicy, parseRetryAfter } from '../../src/retry/index.js';
import { AimdLimit, Gradient2Limit, VegasLimit, WindowedLimit } from '../../src/limit/index.js';
import type { LimitAlgorithm } from '../../src/limit/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import type { LoadShedder } from '../../src/pressure/index.js';
import type { PressureLevel } from '../../src/pressure/index.js';
import { createClient } from '../../src/http-client/index.js';
import type { KeyedRateLimiter } from '../../src/rate/index.js';

describe('the public types of the layers above the core', () => {
  it('breakers, throttles and shedders are gates', () => {
    expectTypeOf(new CircuitBreaker({ rule: consecutiveFailures({ threshold: 3 }) })).toMatchTypeOf<Gate>();
    expectTypeOf(new AdaptiveThrottle()).toMatchTypeOf<Gate>();
    expectTypeOf<LoadShedder>().toMatchTypeOf<Gate>();
    expectTypeOf<KeyedRateLimiter>().toMatchTypeOf<Gate>();
    expectTypeOf<PressureLevel>().toEqualTypeOf<'ok' | 'slow' | 'reject'>();
  });

  it('wrappers keep the result type', () => {
    const breaker = new CircuitBreaker();
    expectTypeOf(breaker.execute(async () => 42)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(new RetryPolicy().execute(async (signal): Promise<string> => (signal.aborted ? 'a' : 'b'))).toEqualTypeOf<Promise<string>>();
    expectTypeOf(parseRetryAfter).returns.toEqualTypeOf<number | undefined>();
  });

  it('limit algorithms plug into the concurrency gate, which refuses both a limit and an algorithm', () => {
    expectTypeOf(new AimdLimit()).toMatchTypeOf<LimitAlgorithm>();
    expectTypeOf(new WindowedLimit(new VegasLimit())).toMatchTypeOf<LimitAlgorithm>();
    new ConcurrencyGate({ algorithm: new Gradient2Limit(), maxQueue: 10, discipline: 'lifo' });
    // @ts-expect-error a fixed limit and an algorithm contradict each other
    new ConcurrencyGate({ limit: 10, algorithm: new AimdLimit() });
  });

  it('the client fetch has fetch-like parameters and returns a Response', () => {
    const client = createClient();
    expectTypeOf(client.fetch).parameter(0).toEqualTypeOf<string | URL | Request>();
    expectTypeOf(client.fetch).returns.toEqualTypeOf<Promise<Response>>();
  });

  it('a permit is what every gate grants', () => {
    expectTypeOf<Awaited<ReturnType<CircuitBreaker['acquire']>>>().toEqualTypeOf<Permit>();
  });
});
