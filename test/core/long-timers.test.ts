// A Node timer holds at most 2^31 - 1 ms (about 24.8 days); a longer one fires after 1 ms
// (TimeoutOverflowWarning). The system clock passed the delay as it was (hostile-13): a
// ConcurrencyGate with maxWaitMs of 2^31 refused its waiters queue_timeout after 1 ms, and a
// TokenBucket of 1 token per 30 days re-armed its waiter's timer every millisecond for as long
// as it waited (a busy timer and a warning each time). Now a longer delay is waited in steps.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConcurrencyGate, systemClock, TIMER_MAX_MS, TokenBucket } from '../../src/index.js';

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

const pending = Symbol('pending');
const settledWithin = <T>(p: Promise<T>, ms: number): Promise<T | typeof pending> => Promise.race([p, new Promise<typeof pending>((r) => setTimeout(() => r(pending), ms))]);

describe('the system clock and delays past what a Node timer holds', () => {
  it('a ConcurrencyGate with maxWaitMs 2^31 lets its waiter wait', async () => {
    const gate = new ConcurrencyGate({ name: 'g', limit: 1, maxQueue: 1, maxWaitMs: 2 ** 31 });
    const held = gate.tryAdmit();
    expect(held.ok).toBe(true);
    const waiting = Promise.resolve(gate.admit());
    // Before: { ok: false, reason: 'queue_timeout' } after 1 ms.
    expect(await settledWithin(waiting, 100)).toBe(pending);
    if (held.ok) held.release();
    expect((await waiting).ok).toBe(true);
  });

  it('a TokenBucket of 1 per 30 days sets one timer for its waiter, not one a millisecond', async () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const bucket = new TokenBucket({ name: 'b', rate: 1, perMs: 30 * 86_400_000, burst: 1, maxWaitMs: Infinity });
    expect(bucket.tryAdmit().ok).toBe(true);
    const controller = new AbortController();
    const waiting = Promise.resolve(bucket.admit({ signal: controller.signal }));
    expect(await settledWithin(waiting, 100)).toBe(pending);
    const delays = spy.mock.calls.map((c) => c[1] ?? 0);
    expect(delays.filter((d) => d > TIMER_MAX_MS)).toEqual([]);
    // The race's own timer, and the waiter's one step.
    expect(spy.mock.calls.length).toBeLessThanOrEqual(3);
    controller.abort();
    await waiting.catch(() => undefined);
  });

  it('a long timer fires at its time, in steps no Node timer overflows; clearTimer and unref reach the step in force', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let fired = 0;
    const long = systemClock.setTimer(() => fired++, TIMER_MAX_MS * 2 + 10);
    (long as { unref?: () => unknown }).unref?.();
    vi.advanceTimersByTime(TIMER_MAX_MS * 2);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(10);
    expect(fired).toBe(1);
    const cleared = systemClock.setTimer(() => fired++, TIMER_MAX_MS + 5);
    vi.advanceTimersByTime(TIMER_MAX_MS);
    systemClock.clearTimer(cleared);
    vi.advanceTimersByTime(10);
    expect(fired).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
