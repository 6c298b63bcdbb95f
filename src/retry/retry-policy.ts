/**
 * Retry, done safely: backoff with jitter, a cap on attempts and on each wait, a time limit
 * per attempt and for the whole call (both reach the call as an AbortSignal), the server's
 * Retry-After and sluice's own `retryAfterMs` honoured but never past the deadline, a
 * shared retry budget, and the caller's abort obeyed at once.
 *
 * After a failed attempt n, the policy gives up (rejecting with that attempt's error) when
 *   n = maxAttempts; or `retryable(error)` is false or its wait is Infinity; or the
 *   requested wait > maxRetryAfterMs; or now + wait >= deadline; or the budget is spent.
 * Otherwise it waits max(backoff(n), requested wait) and tries again.
 */
import { AbortedError, argNumber, optionKeys, optKnownKeys } from '../core/index.js';
import type { Clock } from '../core/index.js';
import { stallAware } from '../core/stall-aware.js';
import { NEVER_ABORTED, runAttempt, sleep } from './attempt.js';
import type { Attempt } from './attempt.js';
import { backoffDelay } from './backoff.js';
import { retryConfig } from './options.js';
import type { GiveUpReason, RetryConfig, RetryOptions } from './options.js';
import { tellListener } from '../core/listener-error.js';

export interface RetryCallOptions {
  /** Aborting it stops the call at once (attempt or wait); the call rejects with AbortedError. */
  readonly signal?: AbortSignal;
  /** Absolute deadline on the policy's clock; the earlier of it and start + deadlineMs wins. */
  readonly deadline?: number;
}

/** A misspelt `signal` would leave the call unabortable, in silence. */
const CALL_KEYS = optionKeys<RetryCallOptions>({ signal: true, deadline: true });

/**
 * @example
 * const policy = new RetryPolicy({ maxAttempts: 4, attemptTimeoutMs: 2_000, deadlineMs: 5_000, budget });
 * const res = await policy.execute((signal) => fetch(url, { signal }));
 */
export class RetryPolicy {
  readonly #c: RetryConfig;
  /**
   * The clock's timers for attempt timeouts, deferred past the poll phase when they fire late
   * (core/stall-aware.ts): after a stall of the event loop an answer already in its socket is
   * read before the attempt is timed out — the process's own lateness is not the dependency's.
   */
  readonly #timeouts: Clock;

  constructor(options: RetryOptions = {}) {
    this.#c = retryConfig(options);
    this.#timeouts = stallAware(this.#c.clock);
  }

  get clock(): Clock {
    return this.#c.clock;
  }

  /** Run `fn` until it succeeds or the policy gives up; resolves its value or rejects with its last error. */
  async execute<T>(fn: Attempt<T>, options?: RetryCallOptions): Promise<T> {
    optKnownKeys('RetryPolicy.execute', options, CALL_KEYS);
    const c = this.#c;
    const caller = options?.signal;
    if (caller?.aborted === true) throw new AbortedError('retry', caller.reason);
    let deadline = options?.deadline === undefined ? Infinity : argNumber('deadline', options.deadline, -Infinity);
    if (c.deadlineMs !== Infinity) deadline = Math.min(deadline, c.clock.now() + c.deadlineMs);
    // No timer, no listener: the attempt runs bare (the common, cheap case).
    const bare = caller === undefined && deadline === Infinity && c.attemptTimeoutMs === Infinity;
    c.budget?.recordRequest();
    let previous = c.baseDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        if (bare) return await fn(NEVER_ABORTED, attempt);
        return await this.#attempt(fn, attempt, caller, deadline);
      } catch (error) {
        if (aborted(caller)) throw error instanceof AbortedError ? error : new AbortedError('retry', caller!.reason);
        const next = this.#next(error, attempt, previous, deadline);
        if (typeof next === 'string') {
          if (c.onGiveUp !== undefined) tell('onGiveUp', c.onGiveUp, { attempt, error, reason: next });
          throw error;
        }
        previous = next.backoff;
        if (c.onRetry !== undefined) tell('onRetry', c.onRetry, { attempt, error, delayMs: next.delay, retryAfterMs: next.requested });
        if (next.delay > 0) await sleep(c.clock, next.delay, caller);
      }
    }
  }

  #attempt<T>(fn: Attempt<T>, attempt: number, caller: AbortSignal | undefined, deadline: number): Promise<T> {
    const now = this.#c.clock.now();
    if (now >= deadline) return Promise.reject(new DOMException(`retry: deadline passed before attempt ${attempt}`, 'TimeoutError'));
    const own = now + this.#c.attemptTimeoutMs;
    const endsAt = own < deadline ? own : deadline;
    const why = own < deadline ? `retry: attempt ${attempt} timed out after ${this.#c.attemptTimeoutMs} ms` : `retry: deadline reached during attempt ${attempt}`;
    return runAttempt(fn, attempt, caller, this.#timeouts, endsAt, why);
  }

  /** The wait before the next attempt, or why to give up. */
  #next(error: unknown, attempt: number, previous: number, deadline: number): { delay: number; backoff: number; requested: number | undefined } | GiveUpReason {
    const c = this.#c;
    if (attempt >= c.maxAttempts) return 'attempts';
    if (!c.retryable(error)) return 'not-retryable';
    let requested = c.retryAfter(error);
    if (requested !== undefined && (typeof requested !== 'number' || Number.isNaN(requested))) requested = undefined;
    if (requested !== undefined && requested < 0) requested = 0;
    if (requested === Infinity) return 'not-retryable';
    if (requested !== undefined && requested > c.maxRetryAfterMs) return 'retry-after';
    const backoff = backoffDelay(c.jitter, attempt, previous, c.baseDelayMs, c.maxDelayMs, c.random);
    const delay = requested !== undefined && requested > backoff ? requested : backoff;
    if (deadline !== Infinity && c.clock.now() + delay >= deadline) return 'deadline';
    if (c.budget !== undefined && !c.budget.tryRetry()) return 'budget';
    return { delay, backoff, requested };
  }
}

/** A function, not an inline check: the compiler would assume the signal cannot have changed since the last look. */
function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Tell a hook; its throw is a warning (as every sluice hook's is), never the call's outcome. */
function tell<I>(name: string, hook: (info: I) => void, info: I): void {
  tellListener(hook, info, `retry ${name}`);
}
