/**
 * Single-bucket rate gates: one policy, one state, held in the gate itself (no store, no
 * key), so every answer is synchronous unless the caller waits. For per-tenant limits use
 * {@link KeyedRateLimiter}.
 */
import { optionKeys, optKnownKeys } from '../core/option-keys.js';
import type { GateStats } from '../core/types.js';
import type { RateAlgorithm, RateDecision } from './algorithm.js';
import { gcra } from './gcra.js';
import type { GcraState } from './gcra.js';
import { capacityOf, ratePolicy } from './policy.js';
import type { BucketPolicyInput, GcraPolicy, RatePolicy, SlidingWindowPolicy, TokenBucketPolicy, WindowPolicyInput } from './policy.js';
import { RateGate } from './rate-gate.js';
import type { RateGateOptions } from './rate-gate.js';
import { slidingWindow } from './sliding-window.js';
import type { SlidingWindowState } from './sliding-window.js';
import { tokenBucket } from './token-bucket.js';
import type { TokenBucketState } from './token-bucket.js';

/** Options of {@link TokenBucket} and {@link Gcra}: the policy fields plus the gate's. The policy is named after the gate. */
export interface BucketGateOptions extends RateGateOptions, Omit<BucketPolicyInput, 'name'> {}

/** Options of {@link SlidingWindow}: the policy fields plus the gate's. The policy is named after the gate. */
export interface SlidingWindowOptions extends RateGateOptions, Omit<WindowPolicyInput, 'name'> {}

const BUCKET_GATE_KEYS = optionKeys<BucketGateOptions>({ name: true, clock: true, maxWaitMs: true, quota: true, rate: true, perMs: true, burst: true });
const WINDOW_GATE_KEYS = optionKeys<SlidingWindowOptions>({ name: true, clock: true, maxWaitMs: true, quota: true, limit: true, windowMs: true });

abstract class SingleRateGate<P extends RatePolicy, S extends object> extends RateGate {
  /** The validated policy (plain data). */
  readonly policy: P;
  readonly #algo: RateAlgorithm<P, S>;
  readonly #state: S;

  constructor(options: RateGateOptions, defaultName: string, algo: RateAlgorithm<P, S>, owner: string) {
    super(options, defaultName);
    optKnownKeys(owner, options, algo.algorithm === 'sliding-window' ? WINDOW_GATE_KEYS : BUCKET_GATE_KEYS);
    // The options object carries the policy fields; fields of another algorithm are rejected.
    this.policy = ratePolicy({ ...(options as object), name: this.name, algorithm: algo.algorithm } as never, '') as P;
    this.#algo = algo;
    this.#state = algo.fresh(this.policy, this.clock.now());
  }

  /** Units available now (fractional; negative while reservations are outstanding). */
  get available(): number {
    return this.#algo.available(this.#state, this.policy, this.clock.now());
  }

  stats(): GateStats {
    return this.rateStats(capacityOf(this.policy), this.available);
  }

  protected consume(_key: string, cost: number, now: number, maxDelayMs: number): RateDecision {
    return this.#algo.step(this.#state, this.policy, cost, now, maxDelayMs);
  }

  protected refund(_key: string, cost: number, now: number): void {
    this.#algo.refund(this.#state, this.policy, cost, now);
  }
}

/**
 * Token bucket gate: bursts up to `burst`, then `rate` per `perMs`; at most burst + r·t
 * units in any interval t. See `tokenBucket` for the formula.
 *
 * @example
 * const gate = new TokenBucket({ rate: 100, burst: 20 }); // 100/s, bursts of 20
 * const answer = gate.admit();
 */
export class TokenBucket extends SingleRateGate<TokenBucketPolicy, TokenBucketState> {
  readonly kind = 'token-bucket';
  constructor(options: BucketGateOptions) {
    super(options, 'token-bucket', tokenBucket, 'TokenBucket');
  }
}

/**
 * GCRA gate (leaky bucket as a meter): the same admissions as a token bucket of equal
 * rate and burst, from a single timestamp of state. See `gcra` for the formula.
 */
export class Gcra extends SingleRateGate<GcraPolicy, GcraState> {
  readonly kind = 'gcra';
  constructor(options: BucketGateOptions) {
    super(options, 'gcra', gcra, 'Gcra');
  }
}

/**
 * Sliding-window counter gate: about `limit` units per `windowMs`, smoothed across window
 * edges. See `slidingWindow` for the estimate and its guarantees.
 */
export class SlidingWindow extends SingleRateGate<SlidingWindowPolicy, SlidingWindowState> {
  readonly kind = 'sliding-window';
  constructor(options: SlidingWindowOptions) {
    super(options, 'sliding-window', slidingWindow, 'SlidingWindow');
  }
}
