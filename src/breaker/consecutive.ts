/**
 * Trip rule: open after `threshold` failures in a row; any success resets the streak
 * (cockatiel's ConsecutiveBreaker, Polly's "exceptionsAllowedBeforeBreaking").
 * Cheapest rule: one counter, no clock. Ignores latency.
 */
import { optInt, optionKeys, optKnownKeys } from '../core/index.js';
import { asRecord, intAt } from './plain-data.js';
import type { TripRule } from './trip-rule.js';
import { deepFreeze } from '../core/deep-freeze.js';

export interface ConsecutiveOptions {
  /** Failures in a row that open the breaker. Integer >= 1. @default 5 */
  readonly threshold?: number;
}

export const CONSECUTIVE_DEFAULTS = deepFreeze({ threshold: 5 } as const);

const KEYS = optionKeys<ConsecutiveOptions>({ threshold: true });

/** Plain data: the current failure streak. */
export interface ConsecutiveState {
  failures: number;
}

/** Open after `threshold` consecutive failures: trips when streak >= threshold. */
export function consecutiveFailures(options: ConsecutiveOptions = {}): TripRule<ConsecutiveState> {
  optKnownKeys('consecutiveFailures', options, KEYS);
  const threshold = optInt('threshold', options.threshold ?? CONSECUTIVE_DEFAULTS.threshold, 1);
  return {
    name: 'consecutive',
    timing: 'none',
    slowCallMs: Infinity,
    initial: () => ({ failures: 0 }),
    record(state, failed) {
      if (!failed) {
        state.failures = 0;
        return false;
      }
      return ++state.failures >= threshold;
    },
    tally: (state) => ({ calls: state.failures, failures: state.failures, slow: 0 }),
    restore(data, _deltaMs, path) {
      return { failures: intAt(asRecord(data, path), 'failures', path) };
    },
  };
}
