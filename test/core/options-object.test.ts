// A JavaScript caller who passes no options object, null, a number or an array gets an error
// naming `options` and the class — not "Cannot read properties of undefined (reading 'name')".
import { describe, expect, it } from 'vitest';
import * as sluice from '../../src/index.js';
import { AimdLimit, InvalidArgumentError, RetryBudget, TokenBucket, WindowedLimit } from '../../src/index.js';

type Ctor = new (...args: unknown[]) => unknown;
const NAMES = ['AdaptiveThrottle', 'AimdLimit', 'CircuitBreaker', 'ComposedGate', 'ConcurrencyGate', 'Gcra', 'Gradient2Limit', 'KeyedRateLimiter', 'LoadShedder', 'MemoryStore', 'PressureMonitor', 'RetryBudget', 'RetryPolicy', 'SlidingWindow', 'TokenBucket', 'VegasLimit'] as const;
const classes = Object.fromEntries(NAMES.map((n) => [n, sluice[n] as unknown as Ctor]));

/** Classes whose options are all optional: `new X()` is fine, only a wrong type is refused. */
const optional = new Set(['AdaptiveThrottle', 'AimdLimit', 'CircuitBreaker', 'Gradient2Limit', 'MemoryStore', 'RetryBudget', 'RetryPolicy', 'VegasLimit']);

function refusal(make: () => unknown): InvalidArgumentError {
  try {
    make();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return err as InvalidArgumentError;
  }
  throw new Error('constructed without an error');
}

describe('the options argument must be an object', () => {
  for (const [name, C] of Object.entries(classes)) {
    it(`${name}: null, a number, a string, an array${optional.has(name) ? '' : ', nothing'}`, () => {
      const bad: unknown[] = [null, 5, 'x', []];
      if (!optional.has(name)) bad.push(undefined);
      for (const value of bad) {
        const err = refusal(() => new C(value));
        expect(err.argument).toBe('options');
        expect(err.message).toContain(name);
      }
    });
  }

  it('WindowedLimit names a missing algorithm and a wrong options value', () => {
    const W = WindowedLimit as unknown as Ctor;
    expect(refusal(() => new W(undefined)).argument).toBe('inner');
    expect(refusal(() => new W(new AimdLimit(), null)).argument).toBe('options');
    expect(new W(new AimdLimit(), {})).toBeInstanceOf(WindowedLimit);
  });

  it('an options object still works, and an omitted optional one too', () => {
    expect(new TokenBucket({ rate: 10, burst: 1 })).toBeInstanceOf(TokenBucket);
    expect(new RetryBudget()).toBeInstanceOf(RetryBudget);
    expect(new AimdLimit()).toBeInstanceOf(AimdLimit);
  });
});
