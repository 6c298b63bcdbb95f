/** HTTP client options: one interface, one defaults constant, validated once. */
import { AdaptiveThrottle, RetryBudget, RetryPolicy } from '../retry/index.js';
import type { AdaptiveThrottleOptions, RetryBudgetOptions, RetryOptions } from '../retry/index.js';
import { CircuitBreaker } from '../breaker/index.js';
import type { BreakerOptions } from '../breaker/index.js';
import { InvalidOptionError, optInt, optionKeys, optKnownKeys, optNumber } from '../core/index.js';
import type { Clock } from '../core/index.js';
import { Pacer } from './pacer.js';
import type { PacerOptions } from './pacer.js';
import { optClock } from '../core/options.js';
import { deepFreeze } from '../core/deep-freeze.js';

/** The function wrapped: `globalThis.fetch`, undici's `fetch`, or anything with its shape. */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** The retry settings a client takes (its clock, deadline and budget are the client's). */
export type HttpRetryOptions = Pick<RetryOptions, 'maxAttempts' | 'jitter' | 'baseDelayMs' | 'maxDelayMs' | 'attemptTimeoutMs' | 'maxRetryAfterMs' | 'random' | 'onRetry' | 'onGiveUp'>;

export interface HttpClientOptions {
  /** The fetch to wrap. @default globalThis.fetch */
  readonly fetch?: FetchFunction;
  /** Prefix of the per-origin gate names (`<name>:<part>:<origin>`). Non-empty. @default 'http-client' */
  readonly name?: string;
  /** Waits, deadlines, windows and breaker times run on it. @default systemClock */
  readonly clock?: Clock;
  /** Requests in flight per origin (from sending to the response headers). Integer >= 1, or Infinity. @default 64 */
  readonly concurrency?: number;
  /** Requests that may wait for an in-flight slot per origin; 0 refuses at once when full. Integer >= 0. @default 1024 */
  readonly maxQueue?: number;
  /** Time limit of a whole call — admission waits, attempts and backoff — ms; a call's `deadlineMs` can shorten it. > 0. @default Infinity */
  readonly deadlineMs?: number;
  /** Backoff, attempts and Retry-After limits; `false`: one attempt per call. @default RETRY_DEFAULTS (3 attempts, full jitter from 100 ms) */
  readonly retry?: false | HttpRetryOptions;
  /** The retry budget each origin gets; `false`: none. @default RETRY_BUDGET_DEFAULTS (20% of requests + 10 per 10 s) */
  readonly budget?: false | Omit<RetryBudgetOptions, 'clock'>;
  /** The circuit breaker each origin gets; `false`: none. @default BREAKER_DEFAULTS (5 failures in a row, open 10 s) */
  readonly breaker?: false | Omit<BreakerOptions, 'clock' | 'name'>;
  /** Client-side adaptive throttling (SRE book) per origin; `false`: none. @default ADAPTIVE_THROTTLE_DEFAULTS (K = 2, 2-minute window) */
  readonly throttle?: false | Omit<AdaptiveThrottleOptions, 'clock' | 'name'>;
  /** Pacing from RateLimit and Retry-After headers per origin; `false`: none. @default PACER_DEFAULTS */
  readonly pacing?: false | Omit<PacerOptions, 'clock' | 'name'>;
  /** Response statuses that are retried (idempotent, replayable requests only). Integers in [100, 599]. @default [408, 429, 500, 502, 503, 504] */
  readonly retryOn?: readonly number[];
  /** Retry non-idempotent methods (POST, PATCH, ...) without an Idempotency-Key too. @default false */
  readonly retryNonIdempotent?: boolean;
  /** Origins tracked at once; beyond it the least recently used idle origin (and its breaker state) is forgotten. Integer >= 1. @default 1000 */
  readonly maxOrigins?: number;
}

export const HTTP_CLIENT_DEFAULTS = deepFreeze({
  name: 'http-client',
  concurrency: 64,
  maxQueue: 1024,
  deadlineMs: Infinity,
  retryOn: [408, 429, 500, 502, 503, 504],
  retryNonIdempotent: false,
  maxOrigins: 1000,
} as const);

export interface HttpClientConfig {
  readonly fetch: FetchFunction;
  readonly name: string;
  readonly clock: Clock;
  readonly concurrency: number;
  readonly maxQueue: number;
  readonly deadlineMs: number;
  readonly retry: HttpRetryOptions | undefined;
  readonly budget: Omit<RetryBudgetOptions, 'clock'> | undefined;
  readonly breaker: Omit<BreakerOptions, 'clock' | 'name'> | undefined;
  readonly throttle: Omit<AdaptiveThrottleOptions, 'clock' | 'name'> | undefined;
  readonly pacing: Omit<PacerOptions, 'clock' | 'name'> | undefined;
  readonly retryOn: ReadonlySet<number>;
  readonly retryNonIdempotent: boolean;
  readonly maxOrigins: number;
}

const CLIENT_KEYS = optionKeys<HttpClientOptions>({
  name: true,
  clock: true,
  fetch: true,
  concurrency: true,
  maxQueue: true,
  deadlineMs: true,
  budget: true,
  retry: true,
  retryOn: true,
  retryNonIdempotent: true,
  breaker: true,
  throttle: true,
  pacing: true,
  maxOrigins: true,
});

/** The keys of each section; `clock` and `name` (the client's own) are refused apart, with their reason. */
const SECTION_KEYS = {
  retry: optionKeys<HttpRetryOptions>({ maxAttempts: true, jitter: true, baseDelayMs: true, maxDelayMs: true, attemptTimeoutMs: true, maxRetryAfterMs: true, random: true, onRetry: true, onGiveUp: true }),
  budget: optionKeys<Omit<RetryBudgetOptions, 'clock'>>({ ratio: true, minRetries: true, windowMs: true, buckets: true }),
  breaker: optionKeys<Omit<BreakerOptions, 'clock' | 'name'>>({ rule: true, openMs: true, openBackoff: true, maxOpenMs: true, probes: true, probeSuccesses: true, classify: true, classifyError: true }),
  throttle: optionKeys<Omit<AdaptiveThrottleOptions, 'clock' | 'name'>>({ k: true, windowMs: true, buckets: true, random: true }),
  pacing: optionKeys<Omit<PacerOptions, 'clock' | 'name'>>({ maxHoldMs: true, maxWaitMs: true }),
} as const;

/** Keys a section may not set (each refused with its reason before the unknown-key check); an explicit undefined passes. */
const OWNED = new Set(['clock', 'name', 'deadlineMs', 'budget', 'retryable', 'retryAfter']);

/**
 * Every origin builds its own gates from the sections, so a section is checked here, once, at
 * construction — its keys and its values, each error named under the section (`breaker.openMs`)
 * — and never fails later at an origin's first call.
 */
function checkSection(name: keyof typeof SECTION_KEYS, value: object | undefined, clock: Clock): void {
  if (value === undefined) return;
  const given = Object.fromEntries(Object.entries(value).filter(([k, v]) => !(OWNED.has(k) && v === undefined)));
  optKnownKeys(name, given, SECTION_KEYS[name], `${name}.`);
  try {
    if (name === 'retry') new RetryPolicy({ ...(value as HttpRetryOptions), clock });
    else if (name === 'budget') new RetryBudget({ ...(value as RetryBudgetOptions), clock });
    else if (name === 'breaker') new CircuitBreaker({ ...(value as BreakerOptions), clock });
    else if (name === 'throttle') new AdaptiveThrottle({ ...(value as AdaptiveThrottleOptions), clock });
    else new Pacer({ ...(value as PacerOptions), clock });
  } catch (err) {
    if (err instanceof InvalidOptionError) throw new InvalidOptionError(`${name}.${err.option}`, err.expected, err.received);
    throw err;
  }
}

export function httpClientConfig(o: HttpClientOptions): HttpClientConfig {
  optKnownKeys('createClient', o, CLIENT_KEYS);
  const fetchFn = o.fetch ?? (globalThis.fetch as FetchFunction | undefined);
  if (typeof fetchFn !== 'function') throw new InvalidOptionError('fetch', 'a fetch function (none is global here)', fetchFn);
  const name = o.name ?? HTTP_CLIENT_DEFAULTS.name;
  if (typeof name !== 'string' || name.length === 0) throw new InvalidOptionError('name', 'a non-empty string', name);
  const concurrency = optInt('concurrency', o.concurrency ?? HTTP_CLIENT_DEFAULTS.concurrency, 1);
  const maxQueue = optInt('maxQueue', o.maxQueue ?? HTTP_CLIENT_DEFAULTS.maxQueue, 0);
  const deadlineMs = optNumber('deadlineMs', o.deadlineMs ?? HTTP_CLIENT_DEFAULTS.deadlineMs, Number.MIN_VALUE);
  const retryNonIdempotent = o.retryNonIdempotent ?? HTTP_CLIENT_DEFAULTS.retryNonIdempotent;
  if (typeof retryNonIdempotent !== 'boolean') throw new InvalidOptionError('retryNonIdempotent', 'a boolean', retryNonIdempotent);
  const retry = section('retry', o.retry);
  const budget = section('budget', o.budget);
  for (const owned of ['deadlineMs', 'budget', 'retryable', 'retryAfter'] as const) {
    const v = (retry as Record<string, unknown> | undefined)?.[owned];
    if (v !== undefined) throw new InvalidOptionError(`retry.${owned}`, `absent (the client sets it; see the client's ${owned === 'retryable' || owned === 'retryAfter' ? 'retryOn' : owned} option)`, v);
  }
  // Contradictions: settings for retries that can never happen.
  if (o.retry === false) {
    if (o.budget !== undefined && o.budget !== false) throw new InvalidOptionError('budget', 'absent or false when retry is false', 'a budget');
    if (retryNonIdempotent) throw new InvalidOptionError('retryNonIdempotent', 'false when retry is false', true);
  }
  const retryOn = o.retryOn ?? HTTP_CLIENT_DEFAULTS.retryOn;
  if (!Array.isArray(retryOn)) throw new InvalidOptionError('retryOn', 'an array of status codes', retryOn);
  retryOn.forEach((s, i) => optInt(`retryOn[${i}]`, s, 100, 599));
  const clock = optClock(o.clock);
  const breaker = section('breaker', o.breaker);
  const throttle = section('throttle', o.throttle);
  const pacing = section('pacing', o.pacing);
  checkSection('retry', retry, clock);
  checkSection('budget', budget, clock);
  checkSection('breaker', breaker, clock);
  checkSection('throttle', throttle, clock);
  checkSection('pacing', pacing, clock);
  return {
    fetch: fetchFn,
    name,
    clock,
    concurrency,
    maxQueue,
    deadlineMs,
    retry: o.retry === false ? undefined : (retry ?? {}),
    budget: o.budget === false || o.retry === false ? undefined : (budget ?? {}),
    breaker: o.breaker === false ? undefined : (breaker ?? {}),
    throttle: o.throttle === false ? undefined : (throttle ?? {}),
    pacing: o.pacing === false ? undefined : (pacing ?? {}),
    retryOn: new Set(retryOn),
    retryNonIdempotent,
    maxOrigins: optInt('maxOrigins', o.maxOrigins ?? HTTP_CLIENT_DEFAULTS.maxOrigins, 1, Number.MAX_SAFE_INTEGER),
  };
}

/** An options section: undefined, false, or an object (its fields are validated by the component it configures). */
function section<T extends object>(name: string, value: false | T | undefined): T | undefined {
  if (value === undefined || value === false) return undefined;
  if (typeof value !== 'object' || value === null) throw new InvalidOptionError(name, 'an options object or false', value);
  for (const forbidden of ['clock', 'name']) {
    if ((value as Record<string, unknown>)[forbidden] !== undefined) throw new InvalidOptionError(`${name}.${forbidden}`, "absent (the client's own is used)", (value as Record<string, unknown>)[forbidden]);
  }
  return value;
}
