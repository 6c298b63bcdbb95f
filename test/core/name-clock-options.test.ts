// A gate's `name` and `clock` options are checked at construction like every other option: a
// JavaScript caller's `name: 3` or `clock: {}` is an InvalidOptionError naming the option, not a
// number in every event and metric label or a TypeError ("this.clock.now is not a function") at
// the first acquire.
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/breaker/index.js';
import { Pacer } from '../../src/http-client/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { customSignal, PressureMonitor } from '../../src/pressure/index.js';
import { Channel } from '../../src/queue/index.js';
import { TokenBucket } from '../../src/rate/index.js';
import { AdaptiveThrottle, RetryBudget, RetryPolicy } from '../../src/retry/index.js';
import { thrown } from '../option-error.js';

const bad = (v: unknown): never => v as never;
const signals = [customSignal({ name: 'x', read: () => 0, slowAt: 1, rejectAt: 2 })];

describe('name and clock options', () => {
  const named: [string, (name: never) => unknown][] = [
    ['ConcurrencyGate', (name) => new ConcurrencyGate({ limit: 1, name })],
    ['CircuitBreaker', (name) => new CircuitBreaker({ name })],
    ['AdaptiveThrottle', (name) => new AdaptiveThrottle({ name })],
    ['Pacer', (name) => new Pacer({ name })],
    ['TokenBucket', (name) => new TokenBucket({ rate: 1, burst: 1, name })],
  ];
  for (const [what, make] of named) {
    it(`${what}: a name that is not a non-empty string is refused`, () => {
      for (const v of [3, '', {}, true]) {
        const err = thrown(() => make(bad(v)));
        expect(err.option).toBe('name');
        expect(err.message).toMatch(/^name: expected a non-empty string, received /);
      }
      expect(() => make(bad('ok'))).not.toThrow();
    });
  }

  const clocked: [string, (clock: never) => unknown][] = [
    ['ConcurrencyGate', (clock) => new ConcurrencyGate({ limit: 1, clock })],
    ['TokenBucket', (clock) => new TokenBucket({ rate: 1, burst: 1, clock })],
    ['CircuitBreaker', (clock) => new CircuitBreaker({ clock })],
    ['Channel', (clock) => new Channel({ capacity: 1, clock })],
    ['RetryBudget', (clock) => new RetryBudget({ clock })],
    ['RetryPolicy', (clock) => new RetryPolicy({ clock })],
    ['PressureMonitor', (clock) => new PressureMonitor({ signals, clock })],
  ];
  for (const [what, make] of clocked) {
    it(`${what}: a clock without now, setTimer and clearTimer is refused`, () => {
      for (const v of [3, {}, { now: () => 0 }, { now: () => 0, setTimer: () => 1 }]) {
        const err = thrown(() => make(bad(v)));
        expect(err.option).toBe('clock');
        expect(err.message).toMatch(/^clock: expected a Clock \(now, setTimer, clearTimer\), received /);
      }
    });
  }
});
