/** `sluice/rate`: token bucket, GCRA and sliding-window rate limits; single and keyed gates; stores. */
export { TokenBucket, Gcra, SlidingWindow } from './gates.js';
export type { BucketGateOptions, SlidingWindowOptions } from './gates.js';
export { KeyedRateLimiter } from './keyed.js';
export type { KeyedRateLimiterOptions, KeyedRateStats, PolicyOverrides } from './keyed.js';
export { RateGate, RATE_GATE_DEFAULTS } from './rate-gate.js';
export type { RateGateOptions } from './rate-gate.js';
export { ratePolicy, POLICY_DEFAULTS, RATE_ALGORITHMS } from './policy.js';
export { algorithmOf, capacityOf, windowOf } from './policy-readers.js';
export type {
  BucketPolicyInput,
  GcraPolicy,
  RateAlgorithmName,
  RatePolicy,
  RatePolicyInput,
  SlidingWindowPolicy,
  TokenBucketPolicy,
  WindowPolicyInput,
} from './policy.js';
export { gcra, slidingWindow, tokenBucket } from './checked-algorithms.js';
export type { TokenBucketState } from './token-bucket.js';
export type { GcraState } from './gcra.js';
export type { SlidingWindowState } from './sliding-window.js';
export type { AnyRateAlgorithm } from './algorithms.js';
export type { RateAlgorithm, RateDecision } from './algorithm.js';
export type { RateStore, RateThen } from './store.js';
export { MemoryStore, MEMORY_STORE_DEFAULTS } from './memory-store.js';
export { MAX_HELD_KEY_LENGTH } from './held-key.js';
export type { MemoryStoreOptions } from './memory-store.js';
