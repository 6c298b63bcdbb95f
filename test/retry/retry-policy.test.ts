import { describe, expect, it } from 'vitest';
import { AbortedError, ClosedError, flushMicrotasks, InvalidOptionError, RejectedError, VirtualClock } from '../../src/core/index.js';
import type { Clock, TimerHandle } from '../../src/core/index.js';
import { RetryBudget, RetryPolicy } from '../../src/retry/index.js';
import type { GiveUpInfo, RetryInfo, RetryOptions } from '../../src/retry/index.js';

function setup(options: Omit<RetryOptions, 'clock'> = {}) {
  const clock = new VirtualClock();
  const retries: RetryInfo[] = [];
  const giveUps: GiveUpInfo[] = [];
  const policy = new RetryPolicy({ clock, random: () => 0.5, onRetry: (i) => retries.push(i), onGiveUp: (i) => giveUps.push(i), ...options });
  return { clock, policy, retries, giveUps };
}

/** Settle a promise while letting the virtual clock run every timer. */
async function settle<T>(clock: VirtualClock, p: Promise<T>): Promise<{ value?: T; error?: unknown; at: number }> {
  let out: { value?: T; error?: unknown } | undefined;
  p.then(
    (value) => (out = { value }),
    (error: unknown) => (out = { error }),
  );
  for (let i = 0; i < 10_000; i++) {
    await flushMicrotasks();
    const next = clock.nextTimerAt();
    if (out !== undefined || next === undefined) break;
    clock.advanceTo(next);
  }
  if (out === undefined) throw new Error('never settled');
  return { ...out, at: clock.now() };
}

const rejected = (retryAfterMs: number): RejectedError => new RejectedError({ ok: false, gate: 'g', reason: 'rate_limited', retryAfterMs, facts: undefined });

describe('RetryPolicy', () => {
  it('returns the first success without waiting; passes a signal and the attempt number', async () => {
    const { clock, policy } = setup();
    const seen: [boolean, number][] = [];
    const r = await settle(clock, policy.execute((signal, attempt) => (seen.push([signal.aborted, attempt]), 'ok')));
    expect(r).toEqual({ value: 'ok', at: 0 });
    expect(seen).toEqual([[false, 1]]);
  });

  it('retries with exponential backoff (full jitter, fixed random) until maxAttempts, then rejects with the last error', async () => {
    const { clock, policy, retries, giveUps } = setup({ maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 300 });
    const starts: number[] = [];
    const r = await settle(
      clock,
      policy.execute((_s, attempt) => {
        starts.push(clock.now());
        throw new Error(`fail ${attempt}`);
      }),
    );
    expect((r.error as Error).message).toBe('fail 4');
    // waits 0.5 × min(300, 100·2^(n−1)) = 50, 100, 150
    expect(retries.map((i) => i.delayMs)).toEqual([50, 100, 150]);
    expect(starts).toEqual([0, 50, 150, 300]);
    expect(giveUps).toMatchObject([{ attempt: 4, reason: 'attempts' }]);
  });

  it('succeeds on a later attempt', async () => {
    const { clock, policy } = setup({ jitter: 'none', baseDelayMs: 10 });
    let n = 0;
    const r = await settle(clock, policy.execute(async () => (++n < 3 ? Promise.reject(new Error('x')) : 'third')));
    expect(r).toEqual({ value: 'third', at: 30 });
  });

  it('does not retry errors the predicate refuses, nor aborts, nor closed gates (by default)', async () => {
    const { clock, policy, giveUps } = setup({ retryable: (e) => (e as Error).message !== 'fatal' });
    let calls = 0;
    const r = await settle(clock, policy.execute(() => (calls++, Promise.reject(new Error('fatal')))));
    expect((r.error as Error).message).toBe('fatal');
    expect(calls).toBe(1);
    expect(giveUps[0]!.reason).toBe('not-retryable');
    const d = setup();
    let n = 0;
    await settle(d.clock, d.policy.execute(() => (n++, Promise.reject(new ClosedError('g')))));
    expect(n).toBe(1);
  });

  it("honours a RejectedError's retryAfterMs (the larger of it and the backoff)", async () => {
    const { clock, policy, retries } = setup({ jitter: 'none', baseDelayMs: 100 });
    let n = 0;
    const r = await settle(clock, policy.execute(() => (++n === 1 ? Promise.reject(rejected(750)) : n === 2 ? Promise.reject(rejected(10)) : 'ok')));
    expect(r.value).toBe('ok');
    expect(retries.map((i) => [i.delayMs, i.retryAfterMs])).toEqual([
      [750, 750],
      [200, 10],
    ]);
  });

  it('never retries a rejection whose retryAfterMs is Infinity', async () => {
    const { clock, policy, giveUps } = setup();
    let n = 0;
    const r = await settle(clock, policy.execute(() => (n++, Promise.reject(rejected(Infinity)))));
    expect(r.error).toBeInstanceOf(RejectedError);
    expect(n).toBe(1);
    expect(giveUps[0]!.reason).toBe('not-retryable');
  });

  it('reads Retry-After through the retryAfter option; a wait above maxRetryAfterMs gives up at once', async () => {
    const { clock, policy, giveUps } = setup({ retryAfter: (e) => (e as { wait?: number }).wait, maxRetryAfterMs: 5_000 });
    let n = 0;
    const r = await settle(clock, policy.execute(() => (n++, Promise.reject(Object.assign(new Error('503'), { wait: 6_000 })))));
    expect((r.error as Error).message).toBe('503');
    expect(n).toBe(1);
    expect(r.at).toBe(0);
    expect(giveUps[0]!.reason).toBe('retry-after');
  });

  it("caps the server's wait by the deadline: if it exceeds what is left, gives up at once with the last error", async () => {
    const { clock, policy, giveUps } = setup({ deadlineMs: 1_000 });
    let n = 0;
    const r = await settle(clock, policy.execute(() => (n++, Promise.reject(rejected(2_000)))));
    expect(r.error).toBeInstanceOf(RejectedError);
    expect({ n, at: r.at }).toEqual({ n: 1, at: 0 });
    expect(giveUps[0]!.reason).toBe('deadline');
    // A call's own deadline shortens it too.
    const b = setup();
    const s = await settle(b.clock, b.policy.execute(() => Promise.reject(rejected(500)), { deadline: 400 }));
    expect(s.at).toBe(0);
    expect(b.giveUps[0]!.reason).toBe('deadline');
  });

  it('per-attempt timeout: aborts the attempt signal with a TimeoutError and retries', async () => {
    const { clock, policy, retries } = setup({ attemptTimeoutMs: 100, jitter: 'none', baseDelayMs: 10 });
    const aborts: string[] = [];
    let n = 0;
    const r = await settle(
      clock,
      policy.execute((signal) => {
        signal.addEventListener('abort', () => aborts.push((signal.reason as DOMException).name));
        // Ignores its signal entirely: the policy must still move on at the timeout.
        return ++n < 2 ? new Promise<string>(() => {}) : 'ok';
      }),
    );
    expect(r).toEqual({ value: 'ok', at: 110 });
    expect(aborts).toEqual(['TimeoutError']);
    expect((retries[0]!.error as DOMException).message).toBe('retry: attempt 1 timed out after 100 ms');
  });

  it('overall deadline propagates to the attempt signal and stops the retries', async () => {
    const { clock, policy, giveUps } = setup({ deadlineMs: 250, attemptTimeoutMs: 100, jitter: 'none', baseDelayMs: 20 });
    const starts: number[] = [];
    const r = await settle(
      clock,
      policy.execute((signal) => {
        starts.push(clock.now());
        return new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
      }),
    );
    // attempt 1: 0–100, wait 20, attempt 2: 120–220, wait 40 → 260 >= 250: give up.
    expect(starts).toEqual([0, 120]);
    expect(r.at).toBe(220);
    expect((r.error as DOMException).name).toBe('TimeoutError');
    expect(giveUps[0]!.reason).toBe('deadline');
    // When the deadline falls inside an attempt, that attempt's signal fires at the deadline.
    const b = setup({ deadlineMs: 50, maxAttempts: 1 });
    const s = await settle(b.clock, b.policy.execute((signal) => new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)))));
    expect(s.at).toBe(50);
    expect((s.error as Error).message).toBe('retry: deadline reached during attempt 1');
  });

  it("the caller's abort stops at once, during an attempt or a wait, with AbortedError", async () => {
    const { clock, policy } = setup({ baseDelayMs: 1_000, jitter: 'none' });
    const ac = new AbortController();
    let attemptSignal: AbortSignal | undefined;
    const p = policy.execute((signal) => ((attemptSignal = signal), new Promise<never>(() => {})), { signal: ac.signal });
    await clock.tick(10);
    ac.abort(new Error('user left'));
    const r = await settle(clock, p);
    expect(r.error).toBeInstanceOf(AbortedError);
    expect((r.error as AbortedError).cause).toMatchObject({ message: 'user left' });
    expect(attemptSignal!.aborted).toBe(true);
    expect(r.at).toBe(10);

    const ac2 = new AbortController();
    let n = 0;
    const q = policy.execute(() => (n++, Promise.reject(new Error('x'))), { signal: ac2.signal });
    await clock.tick(500); // in the 1 s wait
    ac2.abort();
    const s = await settle(clock, q);
    expect(s.error).toBeInstanceOf(AbortedError);
    expect(n).toBe(1);
    expect(clock.pendingTimers).toBe(0);

    const pre = new AbortController();
    pre.abort();
    await expect(policy.execute(() => 1, { signal: pre.signal })).rejects.toBeInstanceOf(AbortedError);
  });

  it('leaves no timers or listeners behind after a success', async () => {
    const { clock, policy } = setup({ attemptTimeoutMs: 1_000, deadlineMs: 5_000 });
    const ac = new AbortController();
    await settle(clock, policy.execute(() => 'ok', { signal: ac.signal }));
    expect(clock.pendingTimers).toBe(0);
  });

  it('a sync throw from fn is an attempt failure', async () => {
    const { clock, policy } = setup({ maxAttempts: 2, baseDelayMs: 0 });
    let n = 0;
    const r = await settle(
      clock,
      policy.execute(() => {
        if (++n === 1) throw new Error('sync');
        return 'ok';
      }),
    );
    expect(r.value).toBe('ok');
  });

  it('budget: retries stop when it is spent; the call still gets its first attempt', async () => {
    const clock = new VirtualClock();
    const budget = new RetryBudget({ clock, ratio: 0.5, minRetries: 0 });
    const giveUps: GiveUpInfo[] = [];
    const policy = new RetryPolicy({ clock, budget, maxAttempts: 5, baseDelayMs: 0, onGiveUp: (i) => giveUps.push(i) });
    let attempts = 0;
    for (let i = 0; i < 10; i++) await settle(clock, policy.execute(() => (attempts++, Promise.reject(new Error('down')))));
    // 10 requests × 0.5 = 5 retries at most, however many attempts each call may make.
    expect(attempts).toBe(15);
    expect(budget.stats()).toMatchObject({ requests: 10, retries: 5 });
    expect(giveUps.filter((g) => g.reason === 'budget').length).toBeGreaterThan(0);
  });

  it('refuses a NaN deadline as an invalid argument', async () => {
    const { policy } = setup();
    await expect(policy.execute(() => 1, { deadline: NaN })).rejects.toMatchObject({ code: 'SLUICE_ERR_INVALID_ARGUMENT', argument: 'deadline' });
  });

  it('validates options', () => {
    expect(() => new RetryPolicy({ maxAttempts: 0 })).toThrow('maxAttempts: expected an integer in [1,');
    expect(() => new RetryPolicy({ jitter: 'random' as never })).toThrow('jitter: expected one of "none", "full", "equal", "decorrelated"');
    expect(() => new RetryPolicy({ baseDelayMs: 500, maxDelayMs: 100 })).toThrow('maxDelayMs: expected >= baseDelayMs (500), received 100');
    expect(() => new RetryPolicy({ attemptTimeoutMs: 0 })).toThrow(InvalidOptionError);
    expect(() => new RetryPolicy({ budget: new RetryBudget({ clock: new VirtualClock() }) })).toThrow("budget: expected a budget on the policy's clock");
    expect(() => new RetryPolicy({ retryable: 'yes' as never })).toThrow('retryable: expected a function');
    expect(new RetryPolicy({ baseDelayMs: 20_000 })).toBeInstanceOf(RetryPolicy); // the cap follows a larger base
  });
});

/**
 * A clock whose loop can stall: time moves on with no timer run, then the timers phase runs
 * every timer due, late, all at once — as Node's do when a stalled loop comes back, before it
 * reads the sockets. No real time passes.
 */
class StallingClock implements Clock {
  #now = 0;
  readonly #timers = new Set<{ readonly at: number; readonly fn: () => void }>();
  now(): number {
    return this.#now;
  }
  setTimer(fn: () => void, ms: number): TimerHandle {
    const t = { at: this.#now + ms, fn };
    this.#timers.add(t);
    return t;
  }
  clearTimer(handle: TimerHandle): void {
    this.#timers.delete(handle as { readonly at: number; readonly fn: () => void });
  }
  /** The loop was busy `ms`; then its timers phase. */
  stall(ms: number): void {
    this.#now += ms;
    for (const t of [...this.#timers]) {
      if (t.at > this.#now) continue;
      this.#timers.delete(t);
      t.fn();
    }
  }
}

describe('RetryPolicy across a stall of the event loop', () => {
  it('an attempt answered during the stall is answered, not timed out by its late timer; one with no answer still times out', async () => {
    const clock = new StallingClock();
    const policy = new RetryPolicy({ clock, maxAttempts: 1, attemptTimeoutMs: 100 });
    let answer: (v: string) => void = () => undefined;
    const answered = policy.execute(() => new Promise<string>((r) => (answer = r)));
    // 500 ms stalled: the attempt's timer is due; its answer came during the stall and is read
    // after the timers phase (the poll phase), so it is there before the late timeout runs.
    clock.stall(500);
    answer('ok');
    await expect(answered).resolves.toBe('ok');

    const silent = policy.execute(() => new Promise<string>(() => undefined));
    clock.stall(500);
    await expect(silent).rejects.toMatchObject({ name: 'TimeoutError', message: 'retry: attempt 1 timed out after 100 ms' });
  });
});
