/**
 * How the client's retry policies read an attempt's failure. A response with a status in
 * `retryOn` fails the attempt as a {@link RetryableStatus} carrying the response (so a call
 * that gives up still hands the caller that response); network errors and attempt timeouts
 * are retried; local refusals (RejectedError), the caller's abort and anything else are not:
 * a refusal by the client's own breaker, throttle or pacer never turns into a request.
 */
import type { RetryBudget, RetryOptions } from '../retry/index.js';
import type { HttpClientConfig } from './options.js';

/** An attempt whose response has a retryable status. Internal: callers get the Response. */
export class RetryableStatus extends Error {
  constructor(
    readonly response: Response,
    /** The response's Retry-After, ms (429 / 503 only). */
    readonly retryAfterMs: number | undefined,
  ) {
    super(`HTTP ${response.status}`);
  }
}

/** Retried: a retryable status, an attempt timeout, a network error (fetch rejects with a TypeError). */
/** A retry refused by the client's own gates: not retried; the call resolves with the previous response. */
export class Surrender extends Error {
  constructor(readonly response: Response) {
    super(`HTTP ${response.status} (retry refused locally)`);
  }
}

export function retryable(error: unknown): boolean {
  return error instanceof RetryableStatus || isTimeout(error) || error instanceof TypeError;
}

/** An AbortSignal reason or error that is a timeout (the attempt's or the call's deadline). */
export function isTimeout(reason: unknown): boolean {
  return typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError';
}

function retryAfter(error: unknown): number | undefined {
  return error instanceof RetryableStatus ? error.retryAfterMs : undefined;
}

/** Free the connection of a response that is thrown away (undici keeps it until the body is read or cancelled). */
export function discard(response: Response): void {
  response.body?.cancel().catch(() => undefined);
}

/** The options every policy of an origin shares. */
export function retryOptions(c: HttpClientConfig, budget: RetryBudget | undefined): RetryOptions {
  const base: RetryOptions = { clock: c.clock, retryable, retryAfter };
  return budget === undefined ? base : { ...base, budget };
}
