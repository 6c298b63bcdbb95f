// A retry budget, an adaptive throttle and a time-window breaker rule on a clock set back by
// more than their window (a user's `Date.now` stepped back, a VM restored from a snapshot).
// Before, what their windows held stayed until the clock caught up: set back an hour, a
// budget whose minRetries were spent refused every retry for the hour, and a throttle that
// saw an outage kept refusing clients of a healthy backend. Now what they hold ages out
// within one window of the first reading after the jump.
import { describe, expect, it } from 'vitest';
import { timeWindow } from '../../src/breaker/index.js';
import { AdaptiveThrottle, RetryBudget } from '../../src/retry/index.js';
import { SettableClock } from '../settable-clock.js';

const HOUR = 3_600_000;

describe('windows on a clock set back by more than the window', () => {
  it('RetryBudget: spent minRetries come back one window after the new reading', () => {
    const clock = new SettableClock(10 * HOUR);
    const budget = new RetryBudget({ clock, ratio: 0, minRetries: 3, windowMs: 10_000 });
    for (let i = 0; i < 3; i++) expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    clock.offset = -HOUR;
    expect(budget.tryRetry()).toBe(false); // still spent, from this reading on for one window
    clock.base.advance(10_000);
    expect(budget.stats()).toMatchObject({ retries: 0, available: 3 });
    expect(budget.tryRetry()).toBe(true);
  });

  it('RetryBudget: a step back smaller than the window counts in the newest bucket', () => {
    const clock = new SettableClock(10 * HOUR);
    const budget = new RetryBudget({ clock, ratio: 0, minRetries: 3, windowMs: 10_000 });
    for (let i = 0; i < 3; i++) budget.tryRetry();
    clock.offset = -5_000;
    expect(budget.tryRetry()).toBe(false);
    expect(budget.stats().retries).toBe(3);
  });

  it('AdaptiveThrottle: an outage seen before the clock went back stops counting one window later', () => {
    const clock = new SettableClock(10 * HOUR);
    const throttle = new AdaptiveThrottle({ clock, windowMs: 10_000, random: () => 0.999 });
    for (let i = 0; i < 200; i++) {
      const a = throttle.admit();
      if (a.ok) a.release('failure');
    }
    expect(throttle.probability()).toBeGreaterThan(0.9);
    clock.offset = -HOUR;
    expect(throttle.probability()).toBeGreaterThan(0.9);
    clock.base.advance(10_000);
    expect(throttle.probability()).toBe(0);
  });

  it('timeWindow: failures recorded before the clock went back leave the window one window later', () => {
    const clock = new SettableClock(10 * HOUR);
    const rule = timeWindow({ windowMs: 10_000, minimumCalls: 4 });
    const state = rule.initial(clock.now());
    for (let i = 0; i < 3; i++) rule.record(state, true, 0, clock.now());
    clock.offset = -HOUR;
    expect(rule.tally(state, clock.now()).failures).toBe(3);
    clock.base.advance(10_000);
    expect(rule.tally(state, clock.now())).toEqual({ calls: 0, failures: 0, slow: 0 });
    expect(rule.record(state, true, 0, clock.now())).toBe(false); // one failure in the window, not four
  });
});
