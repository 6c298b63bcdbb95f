/**
 * What `sluice/rate` exports to read a policy: its algorithm, capacity and window, each checking
 * the policy it is given — a made-up object, null or a policy with a NaN rate is named
 * (`policy.rate: expected a finite number > 0, received NaN`), not answered with a TypeError,
 * undefined or NaN. A policy from ratePolicy() (or a gate's `policy`) is known valid and costs
 * one WeakSet lookup. The stores call the unchecked functions in policy.ts and algorithms.ts:
 * their policies were validated at construction.
 */
import type { AnyRateAlgorithm } from './algorithms.js';
import { algorithmOf as algorithmOfValid } from './algorithms.js';
import type { RatePolicy } from './policy.js';
import { capacityOf as capacityOfValid, ratePolicy, windowOf as windowOfValid } from './policy.js';

/** The algorithm (token bucket, GCRA, sliding window) that enforces `policy`. */
export function algorithmOf(policy: RatePolicy): AnyRateAlgorithm {
  return algorithmOfValid(ratePolicy(policy));
}

/** The most a policy admits at once: a bucket's `burst`, a window's `limit`. */
export function capacityOf(policy: RatePolicy): number {
  return capacityOfValid(ratePolicy(policy));
}

/**
 * The window a policy's facts report as `w`, ms: a sliding window's `windowMs`; for a token
 * bucket or GCRA, the time to refill the whole burst from empty (burst · perMs / rate).
 */
export function windowOf(policy: RatePolicy): number {
  return windowOfValid(ratePolicy(policy));
}
