/** Retry policy options: one interface, one defaults constant, validated once. */
import { InvalidOptionError, optFunction, optInt, optionKeys, optKnownKeys, optNumber, optOneOf } from '../core/index.js';
import { optClock } from '../core/options.js';
import type { Clock } from '../core/index.js';
import { JITTERS } from './backoff.js';
import type { Jitter } from './backoff.js';
import type { RetryBudget } from './budget.js';
import { defaultRetryable, defaultRetryAfter } from './retryable.js';
import { deepFreeze } from '../core/deep-freeze.js';

/** Passed to `onRetry` before each wait. */
export interface RetryInfo {
  /** The attempt that failed (1 = the first). */
  readonly attempt: number;
  readonly error: unknown;
  /** The wait before the next attempt, ms: max(backoff, the server's wait). */
  readonly delayMs: number;
  /** The server's (or gate's) requested wait, ms, if it gave one. */
  readonly retryAfterMs: number | undefined;
}

/** Why a call gave up (passed to `onGiveUp`; the call rejects with the last error). */
export type GiveUpReason =
  /** maxAttempts reached. */
  | 'attempts'
  /** `retryable` refused the error, or its wait is Infinity ("retrying will not help"). */
  | 'not-retryable'
  /** The server's wait exceeds maxRetryAfterMs. */
  | 'retry-after'
  /** The next attempt could not start before the deadline. */
  | 'deadline'
  /** The retry budget is spent. */
  | 'budget';

export interface GiveUpInfo {
  readonly attempt: number;
  readonly error: unknown;
  readonly reason: GiveUpReason;
}

export interface RetryOptions {
  /** Attempts in all, the first included. Integer >= 1. @default 3 */
  readonly maxAttempts?: number;
  /** Backoff jitter (formulas in `backoff.ts`). @default 'full' */
  readonly jitter?: Jitter;
  /** Backoff base b, ms. >= 0 (0: retry at once). @default 100 */
  readonly baseDelayMs?: number;
  /** Backoff cap c, ms: no backoff wait exceeds it. >= baseDelayMs. @default 10_000, or baseDelayMs when larger */
  readonly maxDelayMs?: number;
  /** Time limit of each attempt, ms: its signal aborts with a 'TimeoutError' DOMException and the attempt fails. > 0. @default Infinity */
  readonly attemptTimeoutMs?: number;
  /** Time limit of the whole call (attempts and waits), ms from its start; a call's own `deadline` can shorten it. > 0. @default Infinity */
  readonly deadlineMs?: number;
  /** Whether an error may be retried. @default defaultRetryable (not aborts, closed gates, invalid options/arguments) */
  readonly retryable?: (error: unknown) => boolean;
  /**
   * The wait an error asks for, ms (a Retry-After header, a RejectedError's retryAfterMs);
   * undefined: none. The next attempt waits max(backoff, this); Infinity: never retry.
   * @default defaultRetryAfter (RejectedError.retryAfterMs)
   */
  readonly retryAfter?: (error: unknown) => number | undefined;
  /** The longest requested wait honoured, ms; a longer one gives up at once. >= 0. @default 60_000 */
  readonly maxRetryAfterMs?: number;
  /** A retry budget shared by the policies calling one dependency. @default none (no budget) */
  readonly budget?: RetryBudget;
  /** Uniform random in [0, 1), for jitter. @default Math.random */
  readonly random?: () => number;
  /** Waits and timeouts run on this clock; the budget must share it. @default systemClock */
  readonly clock?: Clock;
  /** Called before each wait. A throw in it is a SLUICE_LISTENER_ERROR warning; the call goes on. */
  readonly onRetry?: (info: RetryInfo) => void;
  /** Called when a call gives up after a failed attempt. A throw in it is a SLUICE_LISTENER_ERROR warning; the call still rejects with its last error. */
  readonly onGiveUp?: (info: GiveUpInfo) => void;
}

export const RETRY_DEFAULTS = deepFreeze({
  maxAttempts: 3,
  jitter: 'full',
  baseDelayMs: 100,
  maxDelayMs: 10_000,
  attemptTimeoutMs: Infinity,
  deadlineMs: Infinity,
  maxRetryAfterMs: 60_000,
} as const);

export interface RetryConfig {
  readonly maxAttempts: number;
  readonly jitter: Jitter;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly attemptTimeoutMs: number;
  readonly deadlineMs: number;
  readonly retryable: (error: unknown) => boolean;
  readonly retryAfter: (error: unknown) => number | undefined;
  readonly maxRetryAfterMs: number;
  readonly budget: RetryBudget | undefined;
  readonly random: () => number;
  readonly clock: Clock;
  readonly onRetry: ((info: RetryInfo) => void) | undefined;
  readonly onGiveUp: ((info: GiveUpInfo) => void) | undefined;
}

const RETRY_KEYS = optionKeys<RetryOptions>({
  clock: true,
  random: true,
  maxAttempts: true,
  jitter: true,
  baseDelayMs: true,
  maxDelayMs: true,
  attemptTimeoutMs: true,
  deadlineMs: true,
  retryable: true,
  retryAfter: true,
  maxRetryAfterMs: true,
  budget: true,
  onRetry: true,
  onGiveUp: true,
});

export function retryConfig(o: RetryOptions): RetryConfig {
  optKnownKeys('RetryPolicy', o, RETRY_KEYS);
  const maxAttempts = optInt('maxAttempts', o.maxAttempts ?? RETRY_DEFAULTS.maxAttempts, 1, Number.MAX_SAFE_INTEGER);
  const jitter = optOneOf('jitter', o.jitter ?? RETRY_DEFAULTS.jitter, JITTERS);
  const baseDelayMs = optNumber('baseDelayMs', o.baseDelayMs ?? RETRY_DEFAULTS.baseDelayMs, 0, Number.MAX_VALUE);
  const maxDelayMs = optNumber('maxDelayMs', o.maxDelayMs ?? Math.max(RETRY_DEFAULTS.maxDelayMs, baseDelayMs), 0, Number.MAX_VALUE);
  if (maxDelayMs < baseDelayMs) throw new InvalidOptionError('maxDelayMs', `>= baseDelayMs (${baseDelayMs})`, maxDelayMs);
  const attemptTimeoutMs = optNumber('attemptTimeoutMs', o.attemptTimeoutMs ?? RETRY_DEFAULTS.attemptTimeoutMs, Number.MIN_VALUE);
  const deadlineMs = optNumber('deadlineMs', o.deadlineMs ?? RETRY_DEFAULTS.deadlineMs, Number.MIN_VALUE);
  const maxRetryAfterMs = optNumber('maxRetryAfterMs', o.maxRetryAfterMs ?? RETRY_DEFAULTS.maxRetryAfterMs, 0);
  for (const name of ['retryable', 'retryAfter', 'random', 'onRetry', 'onGiveUp'] as const) optFunction(name, o[name]);
  const clock = optClock(o.clock);
  if (o.budget !== undefined && o.budget.clock !== clock) {
    throw new InvalidOptionError('budget', "a budget on the policy's clock", 'a budget on another clock');
  }
  return {
    maxAttempts,
    jitter,
    baseDelayMs,
    maxDelayMs,
    attemptTimeoutMs,
    deadlineMs,
    retryable: o.retryable ?? defaultRetryable,
    retryAfter: o.retryAfter ?? defaultRetryAfter,
    maxRetryAfterMs,
    budget: o.budget,
    random: o.random ?? Math.random,
    clock,
    onRetry: o.onRetry,
    onGiveUp: o.onGiveUp,
  };
}
