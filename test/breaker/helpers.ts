// Helpers shared by the breaker tests.
import { VirtualClock } from '../../src/core/index.js';
import type { Admission, Outcome, Permit, Rejection } from '../../src/core/index.js';
import { CircuitBreaker } from '../../src/breaker/index.js';
import type { BreakerOptions, BreakerStateChange } from '../../src/breaker/index.js';

export function setup(options: Omit<BreakerOptions, 'clock'> = {}) {
  const clock = new VirtualClock();
  const breaker = new CircuitBreaker({ name: 'dep', clock, ...options });
  const changes: BreakerStateChange[] = [];
  breaker.onStateChange((c) => changes.push(c));
  /** One call that takes `ms` and ends with `outcome`; returns the admission. */
  const call = (outcome: Outcome, ms = 0): Admission => {
    const a = breaker.admit();
    if (a.ok) {
      clock.advance(ms);
      a.release(outcome);
    }
    return a;
  };
  const calls = (n: number, outcome: Outcome, ms = 0): void => {
    for (let i = 0; i < n; i++) call(outcome, ms);
  };
  return { clock, breaker, changes, call, calls, path: () => changes.map((c) => `${c.from}>${c.to}:${c.cause}`) };
}

export function permit(a: Admission): Permit {
  if (!a.ok) throw new Error(`expected a permit, got a rejection (${a.reason}, retry after ${a.retryAfterMs})`);
  return a;
}

export function rejection(a: Admission): Rejection {
  if (a.ok) throw new Error('expected a rejection, got a permit');
  return a;
}
