/**
 * Vegas: delay-based, like TCP Vegas. Netflix concurrency-limits `VegasLimit`. It estimates
 * the queue the limit builds on top of the no-load RTT and keeps it between alpha and beta.
 *
 *   queue     = ⌈limit · (1 − rttNoLoad / rtt)⌉          (limit − limit·rttNoLoad/rtt: Little's law)
 *   log       = max(1, ⌊log10(limit)⌋)
 *   alpha = 3·log, beta = 6·log, threshold = log
 *   dropped                       → limit' = limit − log
 *   2 · inFlight < limit          → limit' = limit          (app-limited)
 *   queue ≤ threshold             → limit' = limit + beta   (no queue: grow fast)
 *   queue < alpha                 → limit' = limit + log
 *   queue > beta                  → limit' = limit − log
 *   otherwise                     → limit' = limit
 *   limit' = clamp(limit', minLimit, maxLimit);  limit' = (1 − smoothing)·limit + smoothing·limit'
 *
 * rttNoLoad is the smallest RTT seen, reset to the current RTT every
 * probeMultiplier · limit · U(0.5, 1) samples so it can rise when the service gets slower
 * (a sample that sets or resets it changes nothing else).
 *
 * Defaults (Netflix `VegasLimit.Builder`): initialLimit 20, maxLimit 1000, smoothing 1.0,
 * probeMultiplier 30; the alpha/beta/threshold functions above are Netflix's defaults.
 * Deviation: Netflix's log function switches to sqrt(limit) from 1000 up (a copy of its
 * square-root helper); here it stays log10.
 *
 * Samples with rttMs <= 0 carry no delay information and are ignored unless dropped.
 */
import { argNumber, optInt, optNumber } from '../core/index.js';
import type { LimitAlgorithm, LimitSample } from './algorithm.js';
import { clamp, readBounds } from './bounds.js';
import type { BoundsOptions } from './bounds.js';

export interface VegasOptions extends BoundsOptions {
  /** Weight of a new estimate, in (0, 1]; 1 applies it as is. @default 1 */
  readonly smoothing?: number;
  /** Re-probe the no-load RTT about every probeMultiplier × limit samples. Integer >= 1. @default 30 */
  readonly probeMultiplier?: number;
  /** Uniform [0, 1) source for the probe jitter; inject a seeded one for reproducible runs. @default Math.random */
  readonly random?: () => number;
}

export const VEGAS_DEFAULTS = { initialLimit: 20, minLimit: 1, maxLimit: 1000, smoothing: 1, probeMultiplier: 30 } as const;

export interface VegasState {
  readonly limit: number;
  /** Smallest RTT since the last probe, ms; 0 before the first sample. */
  readonly rttNoLoadMs: number;
  /** Samples since the last probe. */
  readonly probeCount: number;
  /** This probe period's jitter, in [0.5, 1). */
  readonly probeJitter: number;
}

export class VegasLimit implements LimitAlgorithm<VegasState> {
  readonly name = 'vegas';
  readonly minLimit: number;
  readonly maxLimit: number;
  readonly smoothing: number;
  readonly probeMultiplier: number;
  readonly #random: () => number;
  #limit: number;
  #rttNoLoad = 0;
  #probeCount = 0;
  #probeJitter: number;

  constructor(options: VegasOptions = {}) {
    const b = readBounds(options, VEGAS_DEFAULTS);
    this.minLimit = b.minLimit;
    this.maxLimit = b.maxLimit;
    this.#limit = b.initialLimit;
    this.smoothing = optNumber('smoothing', options.smoothing ?? VEGAS_DEFAULTS.smoothing, Number.MIN_VALUE, 1);
    this.probeMultiplier = optInt('probeMultiplier', options.probeMultiplier ?? VEGAS_DEFAULTS.probeMultiplier, 1);
    this.#random = options.random ?? Math.random;
    this.#probeJitter = this.#jitter();
  }

  get limit(): number {
    return this.#limit;
  }

  onSample(s: LimitSample): number {
    if (!(s.rttMs > 0)) return s.dropped ? this.#apply(this.#limit - log(this.#limit)) : this.#limit;
    this.#probeCount++;
    if (this.#probeJitter * this.probeMultiplier * this.#limit <= this.#probeCount) {
      this.#probeJitter = this.#jitter();
      this.#probeCount = 0;
      this.#rttNoLoad = s.rttMs;
      return this.#limit;
    }
    if (this.#rttNoLoad === 0 || s.rttMs < this.#rttNoLoad) {
      this.#rttNoLoad = s.rttMs;
      return this.#limit;
    }
    const limit = this.#limit;
    const lg = log(limit);
    if (s.dropped) return this.#apply(limit - lg);
    if (s.inFlight * 2 < limit) return limit;
    const queue = Math.ceil(limit * (1 - this.#rttNoLoad / s.rttMs));
    if (queue <= lg) return this.#apply(limit + 6 * lg);
    if (queue < 3 * lg) return this.#apply(limit + lg);
    if (queue > 6 * lg) return this.#apply(limit - lg);
    return limit;
  }

  state(): VegasState {
    return { limit: this.#limit, rttNoLoadMs: this.#rttNoLoad, probeCount: this.#probeCount, probeJitter: this.#probeJitter };
  }

  restore(state: VegasState): void {
    const limit = argNumber('state.limit', state.limit, this.minLimit, this.maxLimit);
    const rtt = argNumber('state.rttNoLoadMs', state.rttNoLoadMs, 0);
    const count = argNumber('state.probeCount', state.probeCount, 0);
    const jitter = argNumber('state.probeJitter', state.probeJitter, 0.5, 1);
    this.#limit = limit;
    this.#rttNoLoad = rtt;
    this.#probeCount = count;
    this.#probeJitter = jitter;
  }

  #apply(next: number): number {
    const bounded = clamp(next, this.minLimit, this.maxLimit);
    this.#limit = (1 - this.smoothing) * this.#limit + this.smoothing * bounded;
    return this.#limit;
  }

  #jitter(): number {
    return 0.5 + 0.5 * this.#random();
  }
}

/** max(1, ⌊log10(limit)⌋): Netflix's `Log10RootFunction` for limits below 1000. */
function log(limit: number): number {
  return Math.max(1, Math.floor(Math.log10(Math.max(1, Math.floor(limit)))));
}
