// RateGate keeps "never before the reserved time" as the caller's clock sees it: timers
// that fire early are set again for the rest, timers that fire late all at once (a loop
// stall) grant at most a burst at that instant, and a caller who sleeps `retryAfterMs` on
// Node's own timers then finds its units there. Virtual clocks for the exact cases; one
// bounded real-timer test for the platform's behaviour.
import { describe, expect, it } from 'vitest';
import { systemClock, VirtualClock } from '../../src/core/index.js';
import type { Admission, Clock, TimerHandle } from '../../src/core/index.js';
import { TokenBucket } from '../../src/rate/index.js';

/**
 * Node's timers as they behave: a timer counts whole milliseconds from the loop's clock,
 * truncated, at least 1, so it fires up to ~2 ms before its delay ends by now().
 */
class EarlyTimers implements Clock {
  readonly inner = new VirtualClock(0.9);
  now(): number {
    return this.inner.now();
  }
  setTimer(fn: () => void, ms: number): TimerHandle {
    const now = this.inner.now();
    return this.inner.setTimer(fn, Math.floor(now) + Math.max(1, Math.floor(ms)) - now);
  }
  clearTimer(h: TimerHandle): void {
    this.inner.clearTimer(h);
  }
}

/** A loop that stalls: no timer fires until `resume(at)`, then every due one fires with now() = at. */
class StallingLoop implements Clock {
  #now = 0;
  #timers: { at: number; seq: number; fn: (() => void) | undefined }[] = [];
  #seq = 0;
  now(): number {
    return this.#now;
  }
  setTimer(fn: () => void, ms: number): TimerHandle {
    const t = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn: fn as (() => void) | undefined };
    this.#timers.push(t);
    return t;
  }
  clearTimer(h: TimerHandle): void {
    (h as { fn: unknown }).fn = undefined;
  }
  /** Time jumps to `at`; the timers due by then fire in due order, all at that instant. */
  resume(at: number): void {
    this.#now = at;
    for (;;) {
      const due = this.#timers.filter((t) => t.fn !== undefined && t.at <= at).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) return;
      const fn = due.fn!;
      due.fn = undefined;
      fn();
    }
  }
}

/** Grant times of `n` callers asking at once, as the gate's 'admit' events saw them. */
function askAll(gate: TokenBucket, n: number): { grants: number[]; answers: (Admission | Promise<Admission>)[] } {
  const grants: number[] = [];
  gate.on((e) => {
    if (e.type === 'admit') grants.push(e.at);
  });
  return { grants, answers: Array.from({ length: n }, () => gate.admit()) };
}

/** The token bucket's promise at grant times: at most burst + rate · t units in any interval t. */
function worstExcess(grants: readonly number[], burst: number, perMs: number): number {
  let worst = 0;
  for (let i = 0; i < grants.length; i++) {
    for (let j = i; j < grants.length; j++) worst = Math.max(worst, j - i + 1 - (burst + (grants[j]! - grants[i]!) * perMs));
  }
  return worst;
}

describe('RateGate and its timers', () => {
  it('a timer that fires early grants nothing early: it is set again for the rest', async () => {
    const clock = new EarlyTimers();
    const gate = new TokenBucket({ rate: 1000, burst: 5, maxWaitMs: 10_000, clock });
    const { grants } = askAll(gate, 40);
    await clock.inner.tick(100);
    expect(grants).toHaveLength(40);
    // Caller k (k >= 5) reserved the unit due k − 4 ms after they all asked (at 0.9).
    for (let k = 5; k < 40; k++) expect(grants[k]).toBeGreaterThanOrEqual(0.9 + k - 4);
    expect(worstExcess(grants, 5, 1)).toBeLessThanOrEqual(1e-9);
  });

  it('after a loop stall, the overdue waiters get at most a burst at that instant and the rest at the policy’s pace', () => {
    const clock = new StallingLoop();
    const gate = new TokenBucket({ rate: 1000, burst: 5, maxWaitMs: 10_000, clock });
    const { grants } = askAll(gate, 50);
    expect(grants).toHaveLength(5); // the burst, at once
    clock.resume(100); // 45 waiters all overdue
    expect(grants.filter((t) => t === 100)).toHaveLength(5);
    for (let t = 101; grants.length < 50 && t < 200; t++) clock.resume(t);
    expect(grants).toHaveLength(50);
    // Over the stall's end the bucket's bound holds at grant times: no more than 5 + 1/ms.
    expect(worstExcess(grants.slice(5), 5, 1)).toBeLessThanOrEqual(1e-9);
  });

  it('keeps reservation order: a later waiter due while an earlier one is held back waits its turn', () => {
    const clock = new StallingLoop();
    const gate = new TokenBucket({ rate: 1000, burst: 1, maxWaitMs: 10_000, clock });
    const order: number[] = [];
    const answers = Array.from({ length: 4 }, (_, i) => Promise.resolve(gate.admit()).then(() => order.push(i)));
    clock.resume(50);
    for (let t = 51; t < 60; t++) clock.resume(t);
    return Promise.all(answers).then(() => {
      expect(order).toEqual([0, 1, 2, 3]);
    });
  });

  it('with Node’s timers: a caller who sleeps retryAfterMs with setTimeout, then asks again, is admitted (100/s, burst 1)', async () => {
    const gate = new TokenBucket({ rate: 100, burst: 1, clock: systemClock });
    let refusedAfterWaiting = 0;
    for (let i = 0; i < 20; i++) {
      const a = gate.admit();
      if (a instanceof Promise) throw new Error('a gate without maxWaitMs answers at once');
      if (a.ok) continue;
      await new Promise((r) => setTimeout(r, a.retryAfterMs));
      const again = gate.admit();
      if (again instanceof Promise || !again.ok) refusedAfterWaiting++;
    }
    expect(refusedAfterWaiting).toBe(0);
  });
});
