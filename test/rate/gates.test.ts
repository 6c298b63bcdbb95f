import { describe, expect, it } from 'vitest';
import { AbortedError, ClosedError, flushMicrotasks, InvalidArgumentError, InvalidOptionError, RejectedError, VirtualClock } from '../../src/core/index.js';
import type { GateEvent } from '../../src/core/index.js';
import { Gcra, SlidingWindow, TokenBucket } from '../../src/rate/index.js';
import { later, permit, rejection, track } from './helpers.js';

// 10 per second (one unit every 100 ms), bursts of 5. Token bucket and GCRA must agree on
// every number here: they are the same limit metered two ways.
for (const [label, Gate] of [
  ['TokenBucket', TokenBucket],
  ['Gcra', Gcra],
] as const) {
  describe(label, () => {
    const make = (extra: { maxWaitMs?: number } = {}) => {
      const clock = new VirtualClock();
      const gate = new Gate({ name: 'api', rate: 10, perMs: 1000, burst: 5, clock, ...extra });
      return { clock, gate };
    };

    it('admits the burst at once, then refuses with the exact time to the next unit', () => {
      const { clock, gate } = make();
      const remaining = [1, 2, 3, 4, 5].map(() => permit(gate.admit()).facts!.remaining);
      expect(remaining).toEqual([4, 3, 2, 1, 0]);
      const r = rejection(gate.admit());
      expect(r).toMatchObject({ reason: 'rate_limited', gate: 'api', retryAfterMs: 100 });
      expect(r.facts).toMatchObject({ policy: 'api', limit: 5, remaining: 0, windowMs: 500, resetMs: 500 });
      clock.advance(99);
      expect(rejection(gate.admit()).retryAfterMs).toBe(1);
      clock.advance(1);
      permit(gate.admit());
    });

    it('computes Retry-After for a cost from the state: (cost − tokens) · T', () => {
      const { clock, gate } = make();
      permit(gate.admit({ cost: 5 }));
      clock.advance(40); // 0.4 units back
      expect(rejection(gate.admit({ cost: 3 })).retryAfterMs).toBeCloseTo(260, 9);
      clock.advance(260);
      expect(permit(gate.admit({ cost: 3 })).facts).toMatchObject({ remaining: 0, resetMs: 500 });
    });

    it('a cost above the burst can never pass: retryAfterMs is Infinity, even when full', () => {
      const { gate } = make();
      const r = rejection(gate.admit({ cost: 6 }));
      expect(r.retryAfterMs).toBe(Infinity);
      expect(r.facts).toMatchObject({ limit: 5, remaining: 5, resetMs: 0 });
      expect(gate.stats().tokens).toBe(5);
    });

    it('acquire turns a refusal into RejectedError with the same fields', async () => {
      const { gate } = make();
      permit(gate.admit({ cost: 5 }));
      const err = await gate.acquire().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RejectedError);
      expect(err).toMatchObject({ reason: 'rate_limited', retryAfterMs: 100, facts: { limit: 5, remaining: 0 } });
    });

    it('stats report capacity, tokens now, waiters and counts', () => {
      const { clock, gate } = make();
      permit(gate.admit({ cost: 4 }));
      rejection(gate.admit({ cost: 2 }));
      clock.advance(150);
      expect(gate.stats()).toMatchObject({ name: 'api', kind: Gate === TokenBucket ? 'token-bucket' : 'gcra', limit: 5, tokens: 2.5, inFlight: 0, queued: 0, admitted: 1, rejected: { rate_limited: 1 } });
    });

    it('waits within maxWaitMs: reserves now, grants when due, in arrival order', async () => {
      const { clock, gate } = make({ maxWaitMs: 300 });
      const events: GateEvent[] = [];
      gate.on((e) => events.push(e));
      permit(gate.admit({ cost: 5 }));
      const a = track(later(gate.admit()));
      const b = track(later(gate.admit()));
      const c = track(later(gate.admit({ cost: 1 })));
      // The fourth would be due at 400 ms > 300 ms: refused at once, with its exact wait.
      expect(rejection(gate.admit()).retryAfterMs).toBe(400);
      expect(gate.stats().queued).toBe(3);
      expect(gate.stats().tokens).toBe(-3);
      clock.advance(99);
      await flushMicrotasks();
      expect(a.settled()).toBe(false);
      clock.advance(1);
      await flushMicrotasks();
      expect(a.value()).toMatchObject({ ok: true, facts: { resetMs: 500 } });
      expect(b.settled()).toBe(false);
      clock.advance(200);
      await flushMicrotasks();
      expect([b.value()?.ok, c.value()?.ok]).toEqual([true, true]);
      const waited = events.filter((e) => e.type === 'admit').map((e) => (e.type === 'admit' ? [e.at, e.waitedMs] : []));
      expect(waited).toEqual([
        [0, 0],
        [100, 100],
        [200, 200],
        [300, 300],
      ]);
      expect(clock.pendingTimers).toBe(0);
      expect(gate.stats().queued).toBe(0);
    });

    it('the context deadline or maxWaitMs can only shorten the wait: too short → refused at once', () => {
      const { clock, gate } = make({ maxWaitMs: 1000 });
      permit(gate.admit({ cost: 5 }));
      expect(rejection(gate.admit({ maxWaitMs: 99 })).retryAfterMs).toBe(100);
      expect(rejection(gate.admit({ deadline: clock.now() + 50 })).retryAfterMs).toBe(100);
      expect(rejection(gate.admit({ deadline: clock.now() - 1 })).retryAfterMs).toBe(100);
      expect(clock.pendingTimers).toBe(0);
      expect(gate.stats().tokens).toBe(0);
      void later(gate.admit({ maxWaitMs: 100 }));
      expect(clock.pendingTimers).toBe(1);
    });

    it('an abort during the wait removes the waiter at once and refunds its reservation', async () => {
      const { clock, gate } = make({ maxWaitMs: 1000 });
      permit(gate.admit({ cost: 5 }));
      const ac = new AbortController();
      const p = later(gate.admit({ signal: ac.signal, cost: 2 }));
      expect(gate.stats()).toMatchObject({ queued: 1, tokens: -2 });
      expect(clock.pendingTimers).toBe(1);
      clock.advance(50);
      ac.abort(new Error('client went away'));
      await expect(p).rejects.toBeInstanceOf(AbortedError);
      await expect(p).rejects.toMatchObject({ cause: { message: 'client went away' } });
      expect(gate.stats().queued).toBe(0);
      expect(clock.pendingTimers).toBe(0);
      // Refunded: as if the aborted caller had never asked (0 + 0.5 refilled).
      expect(gate.stats().tokens).toBe(0.5);
      clock.advance(1000);
      await flushMicrotasks();
      expect(gate.stats().admitted).toBe(1); // no late grant
    });

    it('an aborted reservation with newer ones on top is refunded only together with them', async () => {
      const { clock, gate } = make({ maxWaitMs: 1000 });
      permit(gate.admit({ cost: 5 }));
      const [a1, a2, a3] = [new AbortController(), new AbortController(), new AbortController()];
      const p1 = later(gate.admit({ signal: a1.signal, cost: 2 })); // due 200
      const p2 = track(later(gate.admit({ signal: a2.signal }))); // due 300
      const p3 = later(gate.admit({ signal: a3.signal })); // due 400
      a2.abort();
      await flushMicrotasks();
      expect(p2.error()).toBeInstanceOf(AbortedError);
      // p3 was computed on top of p2's units: refunding them now could let a newcomer share p3's slot.
      expect(gate.stats()).toMatchObject({ queued: 2, tokens: -4 });
      a3.abort();
      await expect(p3).rejects.toBeInstanceOf(AbortedError);
      expect(gate.stats()).toMatchObject({ queued: 1, tokens: -2 }); // p3 and the units p2 handed it
      clock.advance(200);
      await expect(p1).resolves.toMatchObject({ ok: true });
      a1.abort(); // after the grant: nothing happens
      expect(gate.stats()).toMatchObject({ queued: 0, tokens: 0, admitted: 2 });
      expect(clock.pendingTimers).toBe(0);
    });

    it('an already aborted signal rejects without consuming anything', async () => {
      const { gate } = make();
      const ac = new AbortController();
      ac.abort();
      await expect(gate.admit({ signal: ac.signal })).rejects.toBeInstanceOf(AbortedError);
      expect(gate.stats().tokens).toBe(5);
    });

    it('close settles every waiter with a closed rejection and later admits are closed', async () => {
      const { clock, gate } = make({ maxWaitMs: 1000 });
      permit(gate.admit({ cost: 5 }));
      const ac = new AbortController();
      const a = later(gate.admit({ signal: ac.signal }));
      const b = gate.acquire();
      gate.close();
      gate.close();
      await expect(a).resolves.toMatchObject({ ok: false, reason: 'closed', retryAfterMs: Infinity });
      await expect(b).rejects.toBeInstanceOf(ClosedError);
      expect(clock.pendingTimers).toBe(0);
      ac.abort(); // a listener left behind would throw or double-settle here
      expect(rejection(gate.admit()).reason).toBe('closed');
      expect(gate.stats()).toMatchObject({ closed: true, queued: 0, rejected: { closed: 3 } });
    });

    it('validates options at construction, naming the option', () => {
      const bad: [Record<string, unknown>, string][] = [
        [{ rate: 0 }, 'rate'],
        [{ rate: Infinity }, 'rate'],
        [{ rate: 1, perMs: -1 }, 'perMs'],
        [{ rate: 1, burst: 0.5 }, 'burst'],
        [{ rate: 1, maxWaitMs: -1 }, 'maxWaitMs'],
        [{ rate: 1, limit: 5 }, 'limit'],
        [{ rate: 1, windowMs: 1000 }, 'windowMs'],
      ];
      for (const [options, option] of bad) {
        expect(() => new Gate(options as never)).toThrow(InvalidOptionError);
        expect(() => new Gate(options as never)).toThrow(expect.objectContaining({ option }));
      }
      expect(() => new Gate({ rate: 1, burst: 0.5 })).toThrow('burst: expected a finite number >= 1, received 0.5');
    });

    it('a bad cost throws InvalidArgumentError and consumes nothing', () => {
      const { gate } = make();
      for (const cost of [0, 0.5, -1, NaN]) {
        expect(() => gate.admit({ cost })).toThrow(InvalidArgumentError);
        expect(() => gate.admit({ cost })).toThrow(expect.objectContaining({ argument: 'cost' }));
      }
      expect(gate.stats().tokens).toBe(5);
    });

    it('burst defaults to max(1, rate) and perMs to one second', () => {
      const clock = new VirtualClock();
      expect(new Gate({ rate: 20, clock }).policy).toMatchObject({ rate: 20, perMs: 1000, burst: 20 });
      expect(new Gate({ rate: 0.5, clock }).policy).toMatchObject({ burst: 1 });
    });
  });
}

describe('SlidingWindow', () => {
  const make = (extra: { maxWaitMs?: number } = {}) => {
    const clock = new VirtualClock();
    const gate = new SlidingWindow({ name: 'sw', limit: 10, windowMs: 1000, clock, ...extra });
    return { clock, gate };
  };

  it('admits the limit, then refuses until the weighted estimate leaves room', () => {
    const { clock, gate } = make();
    for (let i = 0; i < 10; i++) permit(gate.admit());
    const r = rejection(gate.admit());
    expect(r.facts).toMatchObject({ policy: 'sw', limit: 10, remaining: 0, windowMs: 1000, resetMs: 2000 });
    // Next window: estimate = 10 · (1 − e/1000) ≤ 9 from e = 100 ms on.
    expect(r.retryAfterMs).toBeCloseTo(1100, 9);
    clock.advance(r.retryAfterMs - 1e-6);
    rejection(gate.admit());
    clock.advance(1e-6);
    expect(permit(gate.admit()).facts).toMatchObject({ remaining: 0, resetMs: 1900 });
  });

  it('the retry time is exact: waiting exactly retryAfterMs always succeeds', () => {
    const { clock, gate } = make();
    clock.advance(300);
    for (let i = 0; i < 7; i++) permit(gate.admit());
    clock.advance(1000); // window 1: prev = 7, e = 300 → estimate 4.9
    for (let i = 0; i < 5; i++) permit(gate.admit());
    for (const cost of [1, 2, 3]) {
      const r = rejection(gate.admit({ cost }));
      clock.advance(r.retryAfterMs);
      permit(gate.admit({ cost }));
    }
  });

  it('a cost above the limit is refused with Infinity', () => {
    const { gate } = make();
    expect(rejection(gate.admit({ cost: 11 })).retryAfterMs).toBe(Infinity);
  });

  it('reserves within the current window, refuses a wait that would end in the next one', async () => {
    const { clock, gate } = make({ maxWaitMs: 500 });
    clock.advance(900);
    for (let i = 0; i < 10; i++) permit(gate.admit());
    // Due at 1100 (next window): counting it now would be wrong, so it is refused with its wait.
    expect(rejection(gate.admit()).retryAfterMs).toBeCloseTo(200, 9);
    clock.advance(100); // t = 1000, prev = 10, curr = 0
    const a = track(later(gate.admit()));
    const b = track(later(gate.admit()));
    expect(gate.stats().queued).toBe(2);
    clock.advance(100);
    await flushMicrotasks();
    expect([a.settled(), b.settled()]).toEqual([true, false]);
    clock.advance(100);
    await flushMicrotasks();
    expect(b.value()?.ok).toBe(true);
  });

  it('an abort refunds the reserved count', async () => {
    const { clock, gate } = make({ maxWaitMs: 500 });
    for (let i = 0; i < 10; i++) permit(gate.admit());
    clock.advance(1000);
    const ac = new AbortController();
    const p = later(gate.admit({ signal: ac.signal, cost: 3 }));
    expect(gate.stats().tokens).toBeCloseTo(-3, 9);
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(AbortedError);
    expect(gate.stats().tokens).toBeCloseTo(0, 9);
    expect(clock.pendingTimers).toBe(0);
  });

  it('validates options, naming the option', () => {
    expect(() => new SlidingWindow({ limit: 0, windowMs: 1000 })).toThrow(expect.objectContaining({ option: 'limit' }));
    expect(() => new SlidingWindow({ limit: 1, windowMs: 0 })).toThrow(expect.objectContaining({ option: 'windowMs' }));
    expect(() => new SlidingWindow({ limit: 1, windowMs: 10, rate: 3 } as never)).toThrow(expect.objectContaining({ option: 'rate' }));
  });
});
