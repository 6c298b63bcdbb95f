/**
 * What the two window rules share: the ratio thresholds (Resilience4j's
 * failureRateThreshold, slowCallRateThreshold, slowCallDurationThreshold and
 * minimumNumberOfCalls) and the decision
 *
 *   open  ⇔  calls >= minimumCalls  ∧  (failures / calls >= failureRatio  ∨  slow / calls >= slowCallRatio)
 *
 * where a call is slow when its duration >= slowCallMs (a slow call may also be a failure;
 * it then counts in both).
 */
import { InvalidOptionError, optInt, optNumber } from '../core/index.js';
import { deepFreeze } from '../core/deep-freeze.js';

export interface RatioOptions {
  /** Open when failures / calls reaches this. In (0, 1]. @default 0.5 */
  readonly failureRatio?: number;
  /** Open when slow calls / calls reaches this. In (0, 1]; needs `slowCallMs`. @default 1 */
  readonly slowCallRatio?: number;
  /** A call taking at least this many ms is slow. > 0. @default Infinity (latency not judged) */
  readonly slowCallMs?: number;
  /** No ratio counts before the window holds this many calls. Integer >= 1. @default 20, or the window size when smaller */
  readonly minimumCalls?: number;
}

export const RATIO_DEFAULTS = deepFreeze({ failureRatio: 0.5, slowCallRatio: 1, slowCallMs: Infinity, minimumCalls: 20 } as const);

export interface Ratios {
  readonly failureRatio: number;
  readonly slowCallRatio: number;
  readonly slowCallMs: number;
  readonly minimumCalls: number;
}

/** Validate once. `maxCalls`: the most calls the window can hold (a count window's size). */
export function ratios(options: RatioOptions, maxCalls: number): Ratios {
  const failureRatio = optNumber('failureRatio', options.failureRatio ?? RATIO_DEFAULTS.failureRatio, Number.MIN_VALUE, 1);
  const slowCallMs = optNumber('slowCallMs', options.slowCallMs ?? RATIO_DEFAULTS.slowCallMs, Number.MIN_VALUE);
  if (options.slowCallRatio !== undefined && slowCallMs === Infinity) {
    throw new InvalidOptionError('slowCallRatio', 'slowCallMs to be set (which calls are slow?)', options.slowCallRatio);
  }
  const slowCallRatio = optNumber('slowCallRatio', options.slowCallRatio ?? RATIO_DEFAULTS.slowCallRatio, Number.MIN_VALUE, 1);
  const minimumCalls = optInt('minimumCalls', options.minimumCalls ?? Math.min(RATIO_DEFAULTS.minimumCalls, maxCalls), 1);
  if (minimumCalls > maxCalls) throw new InvalidOptionError('minimumCalls', `<= the window size ${maxCalls} (or the rule never trips)`, minimumCalls);
  return { failureRatio, slowCallRatio, slowCallMs, minimumCalls };
}

export function ratioTrips(r: Ratios, calls: number, failures: number, slow: number): boolean {
  return calls >= r.minimumCalls && (failures >= r.failureRatio * calls || slow >= r.slowCallRatio * calls);
}
