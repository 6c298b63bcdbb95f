/**
 * A retry budget (Finagle's RetryBudget, Envoy's retry_budget, gRPC's retry throttling):
 * retries are allowed only while, over the recent window,
 *
 *   retries + 1 <= ratio × requests + minRetries
 *
 * where `requests` counts logical requests (first attempts, `recordRequest()`) and
 * `retries` the retries granted (`tryRetry()`). So however many attempts each call may
 * make, a storm multiplies the load by at most 1 + ratio (plus the floor): at the default
 * 20%, a dependency that fails everything sees 1.2x its normal traffic, not 3x.
 * One budget is meant to be shared by every retry policy that calls the same dependency.
 */
import { InvalidOptionError, optInt, optionKeys, optKnownKeys, optNumber } from '../core/index.js';
import { optClock } from '../core/options.js';
import type { Clock } from '../core/index.js';
import { SlidingCounts } from './sliding-counts.js';
import { deepFreeze } from '../core/deep-freeze.js';

export interface RetryBudgetOptions {
  /** Retries allowed per logical request over the window. >= 0. @default 0.2 (Finagle's percentCanRetry, Envoy's budget_percent) */
  readonly ratio?: number;
  /** Retries always allowed per window, so a client with little traffic can still retry. Integer >= 0. @default 10 */
  readonly minRetries?: number;
  /** Window length, ms. > 0, finite. @default 10_000 (Finagle's ttl) */
  readonly windowMs?: number;
  /** Buckets the window is cut into. Integer in [1, 1000]. @default 10 */
  readonly buckets?: number;
  /** @default systemClock */
  readonly clock?: Clock;
}

export const RETRY_BUDGET_DEFAULTS = deepFreeze({ ratio: 0.2, minRetries: 10, windowMs: 10_000, buckets: 10 } as const);

export interface RetryBudgetStats {
  /** Logical requests in the window. */
  readonly requests: number;
  /** Retries granted in the window. */
  readonly retries: number;
  /** Retries that may still be granted now. */
  readonly available: number;
  /** Retries refused since creation. */
  readonly refused: number;
}

const REQUESTS = 0;
const RETRIES = 1;

const BUDGET_KEYS = optionKeys<RetryBudgetOptions>({ clock: true, windowMs: true, ratio: true, minRetries: true, buckets: true });

export class RetryBudget {
  readonly clock: Clock;
  readonly ratio: number;
  readonly minRetries: number;
  readonly #counts: SlidingCounts;
  #refused = 0;

  constructor(options: RetryBudgetOptions = {}) {
    optKnownKeys('RetryBudget', options, BUDGET_KEYS);
    this.clock = optClock(options.clock);
    this.ratio = optNumber('ratio', options.ratio ?? RETRY_BUDGET_DEFAULTS.ratio, 0, Number.MAX_VALUE);
    this.minRetries = optInt('minRetries', options.minRetries ?? RETRY_BUDGET_DEFAULTS.minRetries, 0, Number.MAX_SAFE_INTEGER);
    const windowMs = optNumber('windowMs', options.windowMs ?? RETRY_BUDGET_DEFAULTS.windowMs, Number.MIN_VALUE);
    if (windowMs === Infinity) throw new InvalidOptionError('windowMs', 'a finite number > 0', windowMs);
    const buckets = optInt('buckets', options.buckets ?? RETRY_BUDGET_DEFAULTS.buckets, 1, 1000);
    this.#counts = new SlidingCounts(windowMs, buckets, 2, this.clock.now());
  }

  /** Count a logical request (its first attempt). Retry policies call this once per call. */
  recordRequest(): void {
    this.#counts.add(REQUESTS, 1, this.clock.now());
  }

  /** Withdraw one retry if the budget allows it now; false (and counted as refused) if not. */
  tryRetry(): boolean {
    const now = this.clock.now();
    const allowed = this.ratio * this.#counts.total(REQUESTS, now) + this.minRetries;
    if (this.#counts.total(RETRIES, now) + 1 > allowed) {
      this.#refused++;
      return false;
    }
    this.#counts.add(RETRIES, 1, now);
    return true;
  }

  stats(): RetryBudgetStats {
    const now = this.clock.now();
    const requests = this.#counts.total(REQUESTS, now);
    const retries = this.#counts.total(RETRIES, now);
    return { requests, retries, available: Math.max(0, Math.floor(this.ratio * requests + this.minRetries - retries)), refused: this.#refused };
  }
}
