import { argInt, argNumber } from '../core/index.js';

/**
 * How long the breaker stays open: fixed, or backing off while the dependency keeps
 * failing its probes. After the n-th opening in a row (n >= 1, reset when a half-open
 * period closes the breaker):
 *
 *   openMs(n) = min(maxOpenMs, openMs × openBackoff^(n − 1))
 *
 * (cockatiel's `halfOpenAfter` backoff, Resilience4j's
 * `waitIntervalFunctionInOpenState` with an exponential interval.)
 */
export function openDuration(n: number, openMs: number, openBackoff: number, maxOpenMs: number): number {
  // Each was read as given: a NaN or a string made the open time NaN (a breaker that never reopens).
  argInt('n', n, 0, Number.MAX_SAFE_INTEGER);
  argNumber('openMs', openMs, 0);
  argNumber('openBackoff', openBackoff, 1);
  argNumber('maxOpenMs', maxOpenMs, 0);
  if (openBackoff === 1 || n <= 1) return openMs;
  const ms = openMs * openBackoff ** (n - 1);
  return ms < maxOpenMs ? ms : maxOpenMs;
}
