import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, VirtualClock } from '../../src/core/index.js';
import { anyOf, CircuitBreaker, consecutiveFailures, countWindow, timeWindow } from '../../src/breaker/index.js';
import type { BreakerOptions, BreakerSnapshot } from '../../src/breaker/index.js';
import { permit, rejection, setup } from './helpers.js';

const json = (s: BreakerSnapshot): BreakerSnapshot => JSON.parse(JSON.stringify(s)) as BreakerSnapshot;

describe('exportState / restoreState', () => {
  const options: Omit<BreakerOptions, 'clock'> = {
    rule: anyOf(consecutiveFailures({ threshold: 3 }), countWindow({ size: 5, minimumCalls: 5 }), timeWindow({ windowMs: 1_000, minimumCalls: 5 })),
    openMs: 200,
    openBackoff: 2,
    probes: 3,
    probeSuccesses: 2,
  };

  it('is plain data that survives JSON, in every state', () => {
    const { clock, breaker, calls } = setup(options);
    calls(2, 'failure', 10);
    calls(1, 'success', 10);
    const closed = breaker.exportState();
    expect(json(closed)).toEqual(closed);
    expect(closed).toMatchObject({ version: 1, state: 'closed', opens: 0, takenAt: 30 });
    calls(3, 'failure');
    const open = breaker.exportState();
    expect(open).toMatchObject({ state: 'open', openUntil: 230, opens: 1 });
    clock.advance(200);
    permit(breaker.admit()).release('failure');
    expect(breaker.exportState()).toMatchObject({ state: 'half-open', probeFailures: 1, probeSuccesses: 0 });
  });

  it('restores on the same clock: remaining open time, backoff exponent, window and probes carry over', () => {
    const a = setup(options);
    a.calls(3, 'failure');
    a.clock.advance(50);
    const b = new CircuitBreaker({ clock: a.clock, ...options });
    b.restoreState(json(a.breaker.exportState()));
    expect(rejection(b.admit()).retryAfterMs).toBe(150);
    expect(b.stats().opens).toBe(1);
    a.clock.advance(150);
    permit(b.admit()).release('failure');
    permit(b.admit()).release('failure'); // 2 failures > 3 − 2: reopens, backing off to 400 ms
    expect(rejection(b.admit()).retryAfterMs).toBe(400);

    const c = setup(options);
    c.calls(2, 'failure');
    const d = new CircuitBreaker({ clock: c.clock, ...options });
    d.restoreState(c.breaker.exportState());
    permit(d.admit()).release('failure'); // third in a row
    expect(d.state).toBe('open');
  });

  it('rebase: moves times onto a clock with another origin', () => {
    const a = setup({ rule: timeWindow({ windowMs: 1_000, buckets: 10, minimumCalls: 3, failureRatio: 1 }), openMs: 500 });
    a.clock.advance(10_000);
    a.calls(2, 'failure');
    const snap = json(a.breaker.exportState());
    const other = new VirtualClock(1_000_000);
    const b = new CircuitBreaker({ clock: other, rule: timeWindow({ windowMs: 1_000, buckets: 10, minimumCalls: 3, failureRatio: 1 }), openMs: 500 });
    b.restoreState(snap, { rebase: true });
    expect(b.stats().window).toEqual({ calls: 2, failures: 2, slow: 0 });
    permit(b.admit()).release('failure');
    expect(b.state).toBe('open');
    expect(rejection(b.admit()).retryAfterMs).toBe(500);

    a.calls(1, 'failure');
    const open = a.breaker.exportState();
    a.clock.advance(100);
    const c = new CircuitBreaker({ clock: new VirtualClock(5), openMs: 500 });
    c.restoreState({ ...open, rule: { failures: 0 } }, { rebase: true });
    expect(rejection(c.admit()).retryAfterMs).toBe(500); // as if exported just now
  });

  it('notifies a state change with cause restore, and stale permits no longer count', () => {
    const { breaker, changes } = setup({ rule: consecutiveFailures({ threshold: 1 }) });
    const stale = permit(breaker.admit());
    const other = setup({ rule: consecutiveFailures({ threshold: 1 }) });
    other.breaker.isolate();
    breaker.restoreState(other.breaker.exportState());
    expect(changes.at(-1)).toMatchObject({ from: 'closed', to: 'forced-open', cause: 'restore' });
    breaker.reset();
    stale.release('failure');
    expect(breaker.state).toBe('closed');
  });

  it('refuses malformed snapshots with InvalidArgumentError naming the field, and changes nothing', () => {
    const { breaker, calls } = setup({ rule: countWindow({ size: 3, minimumCalls: 3 }), probes: 2 });
    calls(1, 'failure');
    const good = breaker.exportState();
    const bad: [unknown, string][] = [
      [null, 'snapshot: expected an object'],
      [{ ...good, version: 2 }, 'snapshot.version'],
      [{ ...good, state: 'ajar' }, 'snapshot.state'],
      [{ ...good, opens: -1 }, 'snapshot.opens'],
      [{ ...good, takenAt: Infinity }, 'snapshot.takenAt'],
      [{ ...good, rule: { ring: [0, 0], next: 0, filled: 0 } }, 'snapshot.rule.ring'],
      [{ ...good, rule: { ring: [0, 7, 0], next: 0, filled: 0 } }, 'snapshot.rule.ring[1]'],
      [{ ...good, rule: { ring: [0, 0, 0], next: 3, filled: 0 } }, 'snapshot.rule.next'],
      [{ ...good, state: 'half-open', probeSuccesses: 1, probeFailures: 1 }, 'snapshot.probeSuccesses'],
    ];
    for (const [snap, field] of bad) {
      let err: unknown;
      try {
        breaker.restoreState(snap as BreakerSnapshot);
      } catch (e) {
        err = e;
      }
      expect(err, field).toBeInstanceOf(InvalidArgumentError);
      expect((err as Error).message.startsWith(field), `${(err as Error).message} names ${field}`).toBe(true);
    }
    expect(breaker.exportState()).toEqual(good);
  });

  it('recomputes window totals from the data rather than trusting them', () => {
    const { breaker } = setup({ rule: countWindow({ size: 3, minimumCalls: 3 }) });
    breaker.restoreState({ version: 1, takenAt: 0, state: 'closed', openUntil: 0, opens: 0, probeSuccesses: 0, probeFailures: 0, latencyMs: 0, rule: { ring: [1, 1, 0], next: 2, filled: 2, failures: 99, slow: 99 } });
    expect(breaker.stats().window).toEqual({ calls: 2, failures: 2, slow: 0 });
  });
});
