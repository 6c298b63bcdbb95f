// A breaker on a clock that is set back while it is open (a user's `Date.now` stepped back by
// NTP, a VM restored from a snapshot). Before, the open time ran from the old reading: set back
// 50 s, a breaker with openMs 1 s refused circuit_open for 51 s (retryAfterMs 51,000).
import { describe, expect, it } from 'vitest';
import { CircuitBreaker, consecutiveFailures } from '../../src/breaker/index.js';
import type { Clock } from '../../src/core/index.js';
import { SettableClock } from '../settable-clock.js';

function tripped(clock: Clock, openBackoff = 1): CircuitBreaker {
  const backoff = openBackoff === 1 ? {} : { openBackoff, maxOpenMs: 8000 };
  const breaker = new CircuitBreaker({ clock, rule: consecutiveFailures({ threshold: 1 }), openMs: 1000, ...backoff });
  const p = breaker.admit();
  if (!p.ok) throw new Error('not admitted');
  p.release('failure');
  return breaker;
}

describe('a breaker whose clock is set back', () => {
  it('stays open at most one open time from the new reading', () => {
    const clock = new SettableClock(100_000);
    const breaker = tripped(clock);
    clock.offset = -50_000;
    expect(breaker.admit()).toMatchObject({ ok: false, reason: 'circuit_open', retryAfterMs: 1000 });
    expect(breaker.stats().retryAfterMs).toBe(1000);
    clock.base.advance(1000);
    expect(breaker.state).toBe('half-open');
    const probe = breaker.admit();
    expect(probe.ok).toBe(true);
    if (probe.ok) probe.release('success');
    expect(breaker.state).toBe('closed');
  });

  it('with a backing-off open time, the bound is the current one', () => {
    const clock = new SettableClock(100_000);
    const breaker = tripped(clock, 2);
    clock.base.advance(1000);
    const probe = breaker.admit(); // half-open: the probe fails, the second opening lasts 2 s
    if (probe.ok) probe.release('failure');
    expect(breaker.stats()).toMatchObject({ state: 'open', opens: 2, retryAfterMs: 2000 });
    clock.offset = -3_600_000;
    expect(breaker.admit()).toMatchObject({ ok: false, retryAfterMs: 2000 });
  });

  it('a clock that jumps forward ends the open time, as time passing does', () => {
    const clock = new SettableClock(100_000);
    const breaker = tripped(clock);
    clock.offset = 3_600_000;
    expect(breaker.state).toBe('half-open');
  });
});
