import { describe, expect, it } from 'vitest';
import { anyOf, consecutiveFailures, countWindow, timeWindow } from '../../src/breaker/index.js';
import type { TripRule } from '../../src/breaker/index.js';
import { setup } from './helpers.js';

/** Feed a rule directly: [failed, durationMs, at] triples; returns whether each call tripped. */
function feed<S>(rule: TripRule<S>, calls: readonly (readonly [boolean, number, number])[], state: S = rule.initial(0)): boolean[] {
  return calls.map(([failed, ms, at]) => rule.record(state, failed, ms, at));
}

describe('consecutiveFailures', () => {
  it('trips at the threshold; a success resets the streak', () => {
    const rule = consecutiveFailures({ threshold: 3 });
    const F = [true, 0, 0] as const;
    const S = [false, 0, 0] as const;
    expect(feed(rule, [F, F, S, F, F, F])).toEqual([false, false, false, false, false, true]);
  });
});

describe('countWindow', () => {
  it('failure ratio over the last `size` calls, only once minimumCalls are in', () => {
    const rule = countWindow({ size: 4, minimumCalls: 4, failureRatio: 0.5 });
    const F = [true, 0, 0] as const;
    const S = [false, 0, 0] as const;
    // 2 failures of 3: ratio reached but too few calls; the 4th call makes 2/4.
    expect(feed(rule, [F, F, S, S])).toEqual([false, false, false, true]);
    const s = rule.initial(0);
    // Old calls slide out: of F S S S S F only the last four count.
    feed(rule, [F, S, S, S, S, F], s);
    expect(rule.tally(s, 0)).toEqual({ calls: 4, failures: 1, slow: 0 });
  });

  it('minimumCalls defaults to min(20, size)', () => {
    const rule = countWindow({ size: 5 });
    expect(feed(rule, Array.from({ length: 5 }, () => [true, 0, 0] as const))).toEqual([false, false, false, false, true]);
    const big = countWindow({ size: 100 });
    const trips = feed(big, Array.from({ length: 20 }, () => [true, 0, 0] as const));
    expect(trips.indexOf(true)).toBe(19);
  });

  it('slow-call ratio with a duration threshold (a slow success counts as slow, not failed)', () => {
    const rule = countWindow({ size: 10, minimumCalls: 4, failureRatio: 1, slowCallMs: 200, slowCallRatio: 0.6 });
    const s = rule.initial(0);
    expect(feed(rule, [[false, 199, 0], [false, 200, 0], [false, 500, 0], [false, 10, 0]], s)).toEqual([false, false, false, false]);
    expect(rule.tally(s, 0)).toEqual({ calls: 4, failures: 0, slow: 2 });
    expect(feed(rule, [[false, 250, 0]], s)).toEqual([true]); // 3 slow of 5
  });
});

describe('timeWindow', () => {
  it('failure ratio over the last windowMs in buckets; old buckets expire', () => {
    const rule = timeWindow({ windowMs: 1_000, buckets: 10, minimumCalls: 4, failureRatio: 0.6 });
    const s = rule.initial(0);
    expect(feed(rule, [[true, 0, 0], [true, 0, 50], [false, 0, 120], [false, 0, 130], [false, 0, 140]], s)).toEqual([false, false, false, false, false]);
    expect(rule.tally(s, 140)).toEqual({ calls: 5, failures: 2, slow: 0 });
    // At t = 1000 the bucket [0, 100) has left the window: the two failures are gone.
    expect(rule.tally(s, 1_000)).toEqual({ calls: 3, failures: 0, slow: 0 });
    // After a long silence everything is gone.
    expect(rule.tally(s, 10_000)).toEqual({ calls: 0, failures: 0, slow: 0 });
    expect(feed(rule, [[true, 0, 10_000], [true, 0, 10_010], [false, 0, 10_020], [true, 0, 10_030]], s)).toEqual([false, false, false, true]);
  });

  it('counts slow calls too', () => {
    const rule = timeWindow({ windowMs: 10_000, minimumCalls: 2, slowCallMs: 1_000, slowCallRatio: 0.5 });
    expect(feed(rule, [[false, 10, 0], [false, 1_000, 5]])).toEqual([false, true]);
  });

  it('drives a breaker on its clock: half of the last 10 s failing opens it', () => {
    const { clock, breaker, call } = setup({ rule: timeWindow({ windowMs: 10_000, buckets: 10, minimumCalls: 10, failureRatio: 0.5 }) });
    for (let i = 0; i < 9; i++) {
      call('failure');
      clock.advance(1_000);
    }
    // 9 failures in the window, not yet 10 calls; then time passes and they expire one by one.
    expect(breaker.state).toBe('closed');
    clock.advance(5_000);
    expect(breaker.stats().window.calls).toBe(4);
    for (let i = 0; i < 6; i++) call('success');
    expect(breaker.state).toBe('closed'); // 4 of 10 failed
    call('failure');
    expect(breaker.state).toBe('closed'); // 5 of 11
    call('failure');
    expect(breaker.state).toBe('open'); // 6 of 12
  });
});

describe('anyOf', () => {
  it('trips when any rule does; every rule sees every call', () => {
    const rule = anyOf(consecutiveFailures({ threshold: 3 }), countWindow({ size: 10, minimumCalls: 10, failureRatio: 0.5 }));
    const s = rule.initial(0);
    const pattern = [true, false, true, false, true, false, true, false, true, false].map((f) => [f, 0, 0] as const);
    expect(feed(rule, pattern, s)).toEqual([false, false, false, false, false, false, false, false, false, true]);
    expect(rule.tally(s, 0)).toEqual({ calls: 10, failures: 5, slow: 0 });
    const t = rule.initial(0);
    expect(feed(rule, [[true, 0, 0], [true, 0, 0], [true, 0, 0]], t)).toEqual([false, false, true]);
  });

  it('takes the smallest slowCallMs and refuses an empty list', () => {
    expect(anyOf(countWindow({ slowCallMs: 500 }), timeWindow({ slowCallMs: 200 }), consecutiveFailures()).slowCallMs).toBe(200);
    expect(() => anyOf()).toThrow('rules: expected at least one trip rule');
  });
});
