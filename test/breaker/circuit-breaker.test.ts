import { describe, expect, it } from 'vitest';
import { ClosedError, InvalidOptionError, RejectedError, VirtualClock } from '../../src/core/index.js';
import type { GateEvent } from '../../src/core/index.js';
import { breakerStateChannel, CircuitBreaker, consecutiveFailures, countWindow, openDuration, timeWindow } from '../../src/breaker/index.js';
import type { BreakerStateChange } from '../../src/breaker/index.js';
import { run } from '../../src/compose/index.js';
import { permit, rejection, setup } from './helpers.js';

describe('CircuitBreaker transitions', () => {
  it('closed → open when the rule trips; open rejects with the time until half-open', () => {
    const { clock, breaker, calls, path } = setup({ rule: consecutiveFailures({ threshold: 3 }), openMs: 1_000 });
    calls(2, 'failure');
    expect(breaker.state).toBe('closed');
    calls(1, 'failure');
    expect(breaker.state).toBe('open');
    expect(path()).toEqual(['closed>open:rule']);
    const r = rejection(breaker.admit());
    expect(r).toMatchObject({ reason: 'circuit_open', gate: 'dep', retryAfterMs: 1_000 });
    clock.advance(999);
    expect(rejection(breaker.admit()).retryAfterMs).toBe(1);
    expect(breaker.stats()).toMatchObject({ state: 'open', retryAfterMs: 1, limit: 0, rejected: { circuit_open: 2 } });
  });

  it('open → half-open at the first admission after the open time; one probe, others rejected', () => {
    const { clock, breaker, calls, path } = setup({ rule: consecutiveFailures({ threshold: 1 }), openMs: 1_000 });
    calls(1, 'failure');
    clock.advance(1_000);
    const probe = permit(breaker.admit());
    expect(breaker.state).toBe('half-open');
    expect(path()).toEqual(['closed>open:rule', 'open>half-open:timer']);
    const r = rejection(breaker.admit());
    expect(r.reason).toBe('circuit_open');
    expect(r.retryAfterMs).toBeGreaterThanOrEqual(1);
    expect(breaker.stats().probes).toEqual({ inFlight: 1, succeeded: 0, failed: 0 });
    probe.release('success');
    expect(breaker.state).toBe('closed');
    expect(path().at(-1)).toBe('half-open>closed:probe');
  });

  it('reads half-open from state/stats once the open time is over, without a timer', () => {
    const { clock, breaker, calls } = setup({ rule: consecutiveFailures({ threshold: 1 }), openMs: 500 });
    calls(1, 'failure');
    expect(clock.pendingTimers).toBe(0);
    clock.advance(500);
    expect(breaker.stats()).toMatchObject({ state: 'half-open', limit: 1, retryAfterMs: 0 });
  });

  it('half-open → open on a failed probe, with the open time backing off and capped', () => {
    const { clock, breaker, call, changes } = setup({ rule: consecutiveFailures({ threshold: 1 }), openMs: 100, openBackoff: 2, maxOpenMs: 350 });
    call('failure');
    const opens: number[] = [];
    for (let i = 0; i < 4; i++) {
      const open = changes.at(-1)!;
      opens.push(open.openUntil! - open.at);
      clock.advance(open.openUntil! - clock.now());
      call('failure'); // the probe fails
    }
    expect(opens).toEqual([100, 200, 350, 350]);
    expect(breaker.stats().opens).toBe(5);
    // A successful probe resets the backoff.
    clock.advance(350);
    call('success');
    expect(breaker.stats()).toMatchObject({ state: 'closed', opens: 0 });
    call('failure');
    expect(changes.at(-1)!.openUntil! - clock.now()).toBe(100);
  });

  it('openDuration: min(maxOpenMs, openMs × openBackoff^(n−1))', () => {
    expect([1, 2, 3, 4, 5].map((n) => openDuration(n, 1_000, 3, 20_000))).toEqual([1_000, 3_000, 9_000, 20_000, 20_000]);
    expect(openDuration(7, 1_000, 1, 1_000)).toBe(1_000);
  });

  it('half-open with N probes: admits exactly N, closes after probeSuccesses, reopens once closing is impossible', () => {
    const { clock, breaker, call, path } = setup({ rule: consecutiveFailures({ threshold: 1 }), openMs: 100, probes: 3, probeSuccesses: 2 });
    call('failure');
    clock.advance(100);
    const ps = [permit(breaker.admit()), permit(breaker.admit()), permit(breaker.admit())];
    expect(rejection(breaker.admit()).reason).toBe('circuit_open');
    ps[0]!.release('failure'); // one failure allowed (3 − 2)
    expect(breaker.state).toBe('half-open');
    ps[1]!.release('success');
    expect(breaker.state).toBe('half-open');
    ps[2]!.release('success');
    expect(breaker.state).toBe('closed');

    call('failure');
    clock.advance(100);
    const qs = [permit(breaker.admit()), permit(breaker.admit()), permit(breaker.admit())];
    qs[0]!.release('failure');
    qs[1]!.release('dropped'); // 2 failures > 3 − 2: cannot close any more
    expect(breaker.state).toBe('open');
    qs[2]!.release('success'); // a stale probe of the finished period: not counted
    expect(breaker.state).toBe('open');
    expect(path()).toEqual([
      'closed>open:rule',
      'open>half-open:timer',
      'half-open>closed:probe',
      'closed>open:rule',
      'open>half-open:timer',
      'half-open>open:probe',
    ]);
  });

  it("an 'ignored' probe frees its slot; a slow successful probe fails", () => {
    const { clock, breaker, call } = setup({ rule: countWindow({ size: 4, minimumCalls: 1, slowCallMs: 50, slowCallRatio: 1 }), openMs: 100 });
    call('failure');
    expect(breaker.state).toBe('open');
    clock.advance(100);
    permit(breaker.admit()).release('ignored');
    expect(breaker.state).toBe('half-open');
    const p = permit(breaker.admit());
    clock.advance(50);
    p.release('success');
    expect(breaker.state).toBe('open');
  });

  it('ignores outcomes of calls granted in an earlier period', () => {
    const { breaker, call } = setup({ rule: consecutiveFailures({ threshold: 2 }), openMs: 100 });
    const old = permit(breaker.admit());
    call('failure');
    call('failure');
    expect(breaker.state).toBe('open');
    breaker.reset();
    old.release('failure');
    expect(breaker.stats().window).toEqual({ calls: 0, failures: 0, slow: 0 });
    expect(breaker.stats().inFlight).toBe(0);
  });

  it("'ignored' outcomes are not counted while closed", () => {
    const { breaker, calls } = setup({ rule: consecutiveFailures({ threshold: 2 }) });
    calls(5, 'ignored');
    expect(breaker.stats().window.calls).toBe(0);
    expect(breaker.state).toBe('closed');
  });

  it('operator states: isolate (forced-open), disable, trip, reset', () => {
    const { breaker, call, path } = setup({ rule: consecutiveFailures({ threshold: 1 }), openMs: 100 });
    breaker.isolate();
    const r = rejection(breaker.admit());
    expect(r).toMatchObject({ reason: 'circuit_open', retryAfterMs: Infinity });
    expect(breaker.stats()).toMatchObject({ state: 'forced-open', retryAfterMs: Infinity, limit: 0 });
    breaker.disable();
    call('failure');
    call('failure');
    expect(breaker.state).toBe('disabled');
    expect(breaker.stats().limit).toBe(Infinity);
    breaker.reset();
    expect(breaker.state).toBe('closed');
    breaker.trip();
    expect(breaker.state).toBe('open');
    expect(path()).toEqual(['closed>forced-open:operator', 'forced-open>disabled:operator', 'disabled>closed:operator', 'closed>open:operator']);
  });

  it('halfOpen(): an open breaker ends its open time now and admits its probes; other states are left as they are', () => {
    const { clock, breaker, calls, path } = setup({ rule: consecutiveFailures({ threshold: 1 }), openMs: 1_000 });
    calls(1, 'failure');
    clock.advance(10);
    breaker.halfOpen();
    expect(breaker.state).toBe('half-open');
    expect(path()).toEqual(['closed>open:rule', 'open>half-open:operator']);
    // One probe (probes: 1), the rest refused; a failed probe opens again, its opening counted for the backoff (opens 2), as after the timer.
    const probe = permit(breaker.admit());
    expect(rejection(breaker.admit()).reason).toBe('circuit_open');
    probe.release('failure');
    expect(breaker.stats()).toMatchObject({ state: 'open', opens: 2 });
    breaker.halfOpen();
    permit(breaker.admit()).release('success');
    expect(breaker.state).toBe('closed');
    expect(path().slice(-2)).toEqual(['open>half-open:operator', 'half-open>closed:probe']);
    // A half-open breaker keeps its probe out; closed, forced-open and disabled do not move.
    breaker.trip();
    breaker.halfOpen();
    const out = permit(breaker.admit());
    breaker.halfOpen();
    expect(breaker.stats().probes).toEqual({ inFlight: 1, succeeded: 0, failed: 0 });
    out.release('success');
    const before = path().length;
    breaker.halfOpen();
    expect(breaker.state).toBe('closed');
    breaker.isolate();
    breaker.halfOpen();
    expect(breaker.state).toBe('forced-open');
    breaker.disable();
    breaker.halfOpen();
    expect(breaker.state).toBe('disabled');
    expect(path().slice(before)).toEqual(['closed>forced-open:operator', 'forced-open>disabled:operator']);
  });

  it('close() refuses later calls as closed; permits in flight still release', async () => {
    const { breaker } = setup();
    const p = permit(breaker.admit());
    breaker.close();
    expect(rejection(breaker.admit()).reason).toBe('closed');
    await expect(breaker.acquire()).rejects.toBeInstanceOf(ClosedError);
    p.release();
    expect(breaker.stats()).toMatchObject({ inFlight: 0, released: 1, closed: true });
  });
});

describe('CircuitBreaker.execute and run()', () => {
  it('counts thrown errors as failures and rejects with RejectedError while open', async () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker({ clock, rule: consecutiveFailures({ threshold: 2 }), openMs: 5_000 });
    const boom = (): Promise<never> => Promise.reject(new Error('boom'));
    await expect(breaker.execute(boom)).rejects.toThrow('boom');
    await expect(breaker.execute(boom)).rejects.toThrow('boom');
    const err = await breaker.execute(() => 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RejectedError);
    expect(err).toMatchObject({ reason: 'circuit_open', retryAfterMs: 5_000 });
  });

  it('classifies by predicate: breaker-level and per call', async () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker({
      clock,
      rule: consecutiveFailures({ threshold: 2 }),
      classify: (res) => ((res as { status: number }).status >= 500 ? 'failure' : 'success'),
      classifyError: (e) => ((e as Error).message === 'not found' ? 'ignored' : 'failure'),
    });
    await breaker.execute(() => ({ status: 503 }));
    await expect(breaker.execute(() => Promise.reject(new Error('not found')))).rejects.toThrow();
    expect(breaker.stats().window).toEqual({ calls: 1, failures: 1, slow: 0 });
    await breaker.execute(() => ({ status: 200 }), { classify: () => 'failure' });
    expect(breaker.state).toBe('open');
  });

  it('a classifier that throws counts a failure and does not leak the permit', async () => {
    const breaker = new CircuitBreaker({ clock: new VirtualClock(), classify: () => { throw new Error('bad classifier'); } });
    await breaker.execute(() => 1);
    expect(breaker.stats()).toMatchObject({ inFlight: 0, window: { failures: 1 } });
  });

  it('works under run() with its classify options', async () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker({ clock, rule: consecutiveFailures({ threshold: 1 }) });
    await run(breaker, () => 'ok', { classify: (v) => (v === 'ok' ? 'failure' : 'success') });
    expect(breaker.state).toBe('open');
  });
});

describe('CircuitBreaker observability', () => {
  it('stats carry the state, window and counters; events go through the gate listener', () => {
    const { clock, breaker, call } = setup({ rule: countWindow({ size: 10, minimumCalls: 5, failureRatio: 0.5, slowCallMs: 100, slowCallRatio: 1 }) });
    const events: GateEvent[] = [];
    breaker.on((e) => events.push(e));
    call('success', 150);
    call('failure', 10);
    expect(breaker.stats()).toMatchObject({
      name: 'dep',
      kind: 'circuit-breaker',
      state: 'closed',
      inFlight: 0,
      queued: 0,
      admitted: 2,
      released: 2,
      window: { calls: 2, failures: 1, slow: 1 },
    });
    expect(events.map((e) => e.type)).toEqual(['admit', 'release', 'admit', 'release']);
    expect(events[1]).toMatchObject({ outcome: 'success', latencyMs: 150 });
    void clock;
  });

  it('publishes state changes on diagnostics_channel sluice:breaker:state', () => {
    const seen: BreakerStateChange[] = [];
    const sub = (m: unknown): void => void seen.push(m as BreakerStateChange);
    breakerStateChannel.subscribe(sub);
    try {
      const breaker = new CircuitBreaker({ name: 'dc', clock: new VirtualClock() });
      breaker.trip();
      expect(seen).toMatchObject([{ breaker: 'dc', from: 'closed', to: 'open', cause: 'operator' }]);
    } finally {
      breakerStateChannel.unsubscribe(sub);
    }
  });

  it('a throwing state listener does not break the breaker; it surfaces as a process warning', async () => {
    const { breaker } = setup();
    const off = breaker.onStateChange(() => {
      throw new Error('listener');
    });
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      breaker.trip();
      expect(breaker.state).toBe('open');
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).toEqual(['sluice: a breaker state listener threw: Error: listener']);
    } finally {
      process.off('warning', onWarning);
      off();
    }
  });
});

describe('CircuitBreaker options', () => {
  it('validates with one message template and refuses contradictions', () => {
    expect(() => new CircuitBreaker({ openMs: 0 })).toThrow(InvalidOptionError);
    expect(() => new CircuitBreaker({ maxOpenMs: 5_000 })).toThrow('maxOpenMs: expected openBackoff > 1');
    expect(() => new CircuitBreaker({ openMs: 1_000, openBackoff: 2, maxOpenMs: 500 })).toThrow('openMs: expected a number <= maxOpenMs (500), received 1000');
    expect(() => new CircuitBreaker({ openBackoff: 2, maxOpenMs: 500 })).toThrow('maxOpenMs: expected a number >= openMs (10000, its default), received 500');
    expect(() => new CircuitBreaker({ maxOpenMs: -1, openBackoff: 2 })).toThrow('maxOpenMs: expected a finite number > 0, received -1');
  });

  it('a huge openMs under a smaller maxOpenMs names openMs, the option set (before: "maxOpenMs: expected a finite number >= 9007199254740992, received 5000")', () => {
    const make = (): unknown => new CircuitBreaker({ openMs: 2 ** 53, openBackoff: 2, maxOpenMs: 5_000 });
    expect(make).toThrow(InvalidOptionError);
    expect(make).toThrow('openMs: expected a number <= maxOpenMs (5000), received 9007199254740992');
    expect(new CircuitBreaker({ openMs: 2 ** 53, openBackoff: 2 }).stats().state).toBe('closed');
  });

  it('keeps checking the rest', () => {
    expect(() => new CircuitBreaker({ probes: 2, probeSuccesses: 3 })).toThrow('probeSuccesses: expected an integer in [1, 2], received 3');
    expect(() => new CircuitBreaker({ rule: {} as never })).toThrow('rule: expected a trip rule');
    expect(() => countWindow({ size: 10, minimumCalls: 11 })).toThrow('minimumCalls: expected <= the window size 10');
    expect(() => countWindow({ slowCallRatio: 0.5 })).toThrow('slowCallRatio: expected slowCallMs to be set');
    expect(() => countWindow({ failureRatio: 0 })).toThrow(InvalidOptionError);
    expect(() => timeWindow({ windowMs: Infinity })).toThrow('windowMs: expected a finite number > 0');
    expect(() => timeWindow({ buckets: 0 })).toThrow(InvalidOptionError);
    expect(() => consecutiveFailures({ threshold: 0.5 })).toThrow('threshold: expected an integer >= 1, received 0.5');
  });

  it('defaults: consecutive 5 failures, 10 s open, one probe', () => {
    const { clock, breaker, calls } = setup();
    calls(4, 'failure');
    expect(breaker.state).toBe('closed');
    calls(1, 'failure');
    expect(rejection(breaker.admit()).retryAfterMs).toBe(10_000);
    clock.advance(10_000);
    permit(breaker.admit());
    expect(rejection(breaker.admit()).reason).toBe('circuit_open');
  });
});
