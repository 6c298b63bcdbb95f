/** The algorithm for a policy: a constant table, so dispatch is one property load. */
import type { RateAlgorithm } from './algorithm.js';
import { gcra } from './gcra.js';
import type { RatePolicy } from './policy.js';
import { slidingWindow } from './sliding-window.js';
import { tokenBucket } from './token-bucket.js';

/** Algorithm over its own policy and state, with both erased: what a store that holds every kind needs. */
export type AnyRateAlgorithm = RateAlgorithm<RatePolicy, object>;

const TABLE = {
  'token-bucket': tokenBucket,
  gcra,
  'sliding-window': slidingWindow,
} as const;

export function algorithmOf(policy: RatePolicy): AnyRateAlgorithm {
  // Sound: each entry is only ever called with a policy of its own algorithm.
  return TABLE[policy.algorithm] as unknown as AnyRateAlgorithm;
}
