/**
 * Trip rule: failure and slow-call ratios over the last `windowMs` of the breaker's clock,
 * in `buckets` buckets (Resilience4j's TIME_BASED window, opossum's rolling buckets).
 * Bucket k covers [k·w, (k+1)·w) with w = windowMs / buckets; the window is the current
 * bucket and the buckets − 1 before it, so it spans between windowMs − w and windowMs.
 * O(1) amortized per call: expired buckets are cleared as time passes, with running totals.
 */
import { InvalidArgumentError, InvalidOptionError, optInt, optionKeys, optKnownKeys, optNumber } from '../core/index.js';
import { asRecord, intArrayAt, intAt } from './plain-data.js';
import { ratios, ratioTrips } from './ratio.js';
import type { RatioOptions } from './ratio.js';
import type { RuleTally, TripRule } from './trip-rule.js';
import { deepFreeze } from '../core/deep-freeze.js';

export interface TimeWindowOptions extends RatioOptions {
  /** Window length, ms. > 0. @default 10_000 */
  readonly windowMs?: number;
  /** Buckets the window is cut into (its resolution). Integer in [1, 1000]. @default 10 */
  readonly buckets?: number;
}

export const TIME_WINDOW_DEFAULTS = deepFreeze({ windowMs: 10_000, buckets: 10 } as const);

const KEYS = optionKeys<TimeWindowOptions>({ windowMs: true, buckets: true, failureRatio: true, slowCallRatio: true, slowCallMs: true, minimumCalls: true });

/** Plain data. `epoch`: index of the newest bucket, floor(now / bucketMs); arrays are per bucket, index epoch mod buckets. */
export interface TimeWindowState {
  epoch: number;
  calls: number[];
  failures: number[];
  slow: number[];
  totalCalls: number;
  totalFailures: number;
  totalSlow: number;
}

/** Open on the ratios (see `ratio.ts`) over the last `windowMs`. */
export function timeWindow(options: TimeWindowOptions = {}): TripRule<TimeWindowState> {
  optKnownKeys('timeWindow', options, KEYS);
  const windowMs = optNumber('windowMs', options.windowMs ?? TIME_WINDOW_DEFAULTS.windowMs, Number.MIN_VALUE);
  if (windowMs === Infinity) throw new InvalidOptionError('windowMs', 'a finite number > 0', windowMs);
  const buckets = optInt('buckets', options.buckets ?? TIME_WINDOW_DEFAULTS.buckets, 1, 1000);
  const r = ratios(options, Infinity);
  const bucketMs = windowMs / buckets;

  const advance = (s: TimeWindowState, now: number): number => {
    const e = Math.floor(now / bucketMs);
    if (e <= s.epoch) {
      // Set back a whole window or more: what it holds ages out from the new reading, within
      // one window, rather than staying until the clock catches up (SlidingCounts does the same).
      if (e <= s.epoch - buckets) s.epoch = e;
      return slot(s.epoch);
    }
    const steps = Math.min(e - s.epoch, buckets);
    for (let k = 1; k <= steps; k++) {
      const i = slot(s.epoch + k);
      s.totalCalls -= s.calls[i]!;
      s.totalFailures -= s.failures[i]!;
      s.totalSlow -= s.slow[i]!;
      s.calls[i] = 0;
      s.failures[i] = 0;
      s.slow[i] = 0;
    }
    s.epoch = e;
    return slot(e);
  };
  const slot = (epoch: number): number => ((epoch % buckets) + buckets) % buckets;

  return {
    name: 'time-window',
    timing: r.slowCallMs === Infinity ? 'end' : 'duration',
    slowCallMs: r.slowCallMs,
    initial: (now) => ({
      epoch: Math.floor(now / bucketMs),
      calls: new Array<number>(buckets).fill(0),
      failures: new Array<number>(buckets).fill(0),
      slow: new Array<number>(buckets).fill(0),
      totalCalls: 0,
      totalFailures: 0,
      totalSlow: 0,
    }),
    record(s, failed, durationMs, now) {
      // A sample stamped before the newest bucket (clock readings out of order) lands in the newest one.
      const i = advance(s, now);
      s.calls[i]!++;
      s.totalCalls++;
      if (failed) {
        s.failures[i]!++;
        s.totalFailures++;
      }
      if (durationMs >= r.slowCallMs) {
        s.slow[i]!++;
        s.totalSlow++;
      }
      return ratioTrips(r, s.totalCalls, s.totalFailures, s.totalSlow);
    },
    tally(s, now): RuleTally {
      advance(s, now);
      return { calls: s.totalCalls, failures: s.totalFailures, slow: s.totalSlow };
    },
    restore(data, deltaMs, path) {
      const o = asRecord(data, path);
      const calls = intArrayAt(o, 'calls', path, buckets);
      const failures = intArrayAt(o, 'failures', path, buckets);
      const slow = intArrayAt(o, 'slow', path, buckets);
      for (let i = 0; i < buckets; i++) {
        if (failures[i]! > calls[i]! || slow[i]! > calls[i]!) throw new InvalidArgumentError(`${path}.calls[${i}]`, '>= failures and slow of its bucket', calls[i]);
      }
      // Moving by deltaMs moves the bucket grid by the nearest whole number of buckets.
      const epoch = intAt(o, 'epoch', path, -Number.MAX_SAFE_INTEGER) + Math.round(deltaMs / bucketMs);
      const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
      return { epoch, calls, failures, slow, totalCalls: sum(calls), totalFailures: sum(failures), totalSlow: sum(slow) };
    },
  };
}
