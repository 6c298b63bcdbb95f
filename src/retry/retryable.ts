/** What the retry policy assumes about an error unless told otherwise. */
import { AbortedError, ClosedError, InvalidArgumentError, InvalidOptionError, RejectedError } from '../core/index.js';

/**
 * Errors that retrying cannot fix are not retried: the caller's own abort, a closed gate,
 * an invalid option or argument. Everything else is (a sluice rejection with
 * `retryAfterMs` = Infinity is refused separately, whatever this predicate says).
 */
export function defaultRetryable(error: unknown): boolean {
  return !(error instanceof AbortedError || error instanceof ClosedError || error instanceof InvalidArgumentError || error instanceof InvalidOptionError);
}

/**
 * The wait a server or gate asked for, ms: a sluice RejectedError's `retryAfterMs`.
 * For HTTP, pass your own `retryAfter` option that reads the response's header with
 * `parseRetryAfter(response.headers.get('retry-after'), new Date())`.
 */
export function defaultRetryAfter(error: unknown): number | undefined {
  return error instanceof RejectedError ? error.retryAfterMs : undefined;
}
