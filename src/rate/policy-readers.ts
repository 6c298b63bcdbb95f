/**
 * What `sluice/rate` exports to read a policy: its algorithm, capacity and window, each checking
 * the policy it is given — a made-up object, null or a policy with a NaN rate is named
 * (`policy.rate: expected a finite number > 0, received NaN`), not answered with a TypeError,
 * undefined or NaN. A policy from ratePolicy() (or a gate's `policy`) is known valid and costs
 * one WeakSet lookup. algorithmOf gives the checked algorithm objects (checked-algorithms.ts).
 * The stores call the unchecked functions in policy.ts and algorithms.ts: their policies were
 * validated at construction.
 */
import type { AnyRateAlgorithm } from './algorithms.js';
import { gcra, slidingWindow, tokenBucket } from './checked-algorithms.js';
import type { RatePolicy } from './policy.js';
import { capacityOf as capacityOfValid, ratePolicy, windowOf as windowOfValid } from './policy.js';

const CHECKED = { 'token-bucket': tokenBucket, gcra, 'sliding-window': slidingWindow } as const;

/** The algorithm (token bucket, GCRA, sliding window) that enforces `policy`: the checked object sluice/rate exports. */
export function algorithmOf(policy: RatePolicy): AnyRateAlgorithm {
  // Sound: each entry is only ever called with a policy of its own algorithm (and checks that it is).
  return CHECKED[ratePolicy(policy).algorithm] as unknown as AnyRateAlgorithm;
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
