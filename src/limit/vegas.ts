/**
 * Vegas: delay-based, like TCP Vegas. Netflix concurrency-limits `VegasLimit`. It estimates
 * the queue the limit builds on top of the no-load RTT and keeps it between alpha and beta.
 *
 *   queue     = ⌈limit · (1 − rttNoLoad / rtt)⌉          (limit − limit·rttNoLoad/rtt: Little's law)
 *   log       = max(1, ⌊log10(limit)⌋)
 *   alpha     = max(1, queueAlpha · limit),  beta = max(2, queueBeta · limit),  threshold = max(1, alpha / 3)
 *   dropped                       → limit' = limit − log
 *   2 · inFlight < limit          → limit' = limit          (app-limited)
 *   queue ≤ threshold             → limit' = limit + beta   (no queue: grow fast)
 *   queue < alpha                 → limit' = limit + log
 *   queue > beta                  → limit' = limit − max(log, (queue − beta) / 2)
 *   otherwise                     → limit' = limit
 *   limit' = clamp(limit', minLimit, maxLimit);  limit' = (1 − smoothing)·limit + smoothing·limit'
 *
 * rttNoLoad (./no-load-rtt.ts) is the smallest RTT seen, re-measured when a cut in the limit
 * leaves the RTT where it was (a slower dependency, not a queue), and reset to the current RTT
 * every probeMultiplier · limit · U(0.5, 1) samples (Netflix's probe). A sample that lowers or
 * resets it changes nothing else (Netflix).
 *
 * Defaults: initialLimit 20, maxLimit 1000, smoothing 1.0, probeMultiplier 30 (Netflix
 * `VegasLimit.Builder`). Deviations, measured by `npm run sim:adaptive`:
 * - alpha and beta are 3 % and 6 % of the limit (queueAlpha 0.03, queueBeta 0.06), not Netflix's
 *   3·log10(limit) and 6·log10(limit) requests: Vegas holds knee + alpha…beta, and 6·log10 is 12 %
 *   over a knee of 50 and 12 over 100 — outside ±10 % of the knee. A fraction of the limit keeps
 *   the standing queue (and the latency it adds) a fixed share of the limit at any scale.
 *   threshold = alpha / 3 keeps Netflix's ratio (log : 3·log).
 * - above beta it drains half the excess queue per update instead of log: a −log step takes
 *   ~5 s to walk from a knee of 100 down to 50. Half, not all, because a window's RTT still
 *   mixes in requests granted under the previous limit.
 * - the no-load RTT is re-measured after a cut that the RTT does not follow (Netflix only has
 *   the probe, which in windowed use comes every 30 · limit windows — minutes).
 * - Netflix's log function switches to sqrt(limit) from 1000 up; here it stays log10.
 *
 * Samples with rttMs <= 0 carry no delay information and are ignored unless dropped.
 */
import { argNumber, InvalidOptionError, optInt, optionKeys, optKnownKeys, optNumber } from '../core/index.js';
import type { LimitAlgorithm, LimitSample } from './algorithm.js';
import { clamp, readBounds } from './bounds.js';
import type { BoundsOptions } from './bounds.js';
import { NoLoadRtt } from './no-load-rtt.js';
import type { NoLoadRttState } from './no-load-rtt.js';
import { deepFreeze } from '../core/deep-freeze.js';

export interface VegasOptions extends BoundsOptions {
  /** Weight of a new estimate, in (0, 1]; 1 applies it as is. @default 1 */
  readonly smoothing?: number;
  /** Re-probe the no-load RTT about every probeMultiplier × limit samples. Integer >= 1. @default 30 */
  readonly probeMultiplier?: number;
  /** Lower bound of the target queue, a fraction of the limit (alpha = max(1, queueAlpha · limit)). In (0, queueBeta). @default 0.03 */
  readonly queueAlpha?: number;
  /** Upper bound of the target queue, a fraction of the limit (beta = max(2, queueBeta · limit)). In (queueAlpha, 1). @default 0.06 */
  readonly queueBeta?: number;
  /** Uniform [0, 1) source for the probe jitter; inject a seeded one for reproducible runs. @default Math.random */
  readonly random?: () => number;
}

export const VEGAS_DEFAULTS = deepFreeze({
  initialLimit: 20,
  minLimit: 1,
  maxLimit: 1000,
  smoothing: 1,
  probeMultiplier: 30,
  queueAlpha: 0.03,
  queueBeta: 0.06,
} as const);

export interface VegasState extends NoLoadRttState {
  readonly limit: number;
  /** Samples since the last probe. */
  readonly probeCount: number;
  /** This probe period's jitter, in [0.5, 1). */
  readonly probeJitter: number;
}

const KEYS = optionKeys<VegasOptions>({ initialLimit: true, minLimit: true, maxLimit: true, random: true, smoothing: true, probeMultiplier: true, queueAlpha: true, queueBeta: true });

export class VegasLimit implements LimitAlgorithm<VegasState> {
  readonly name = 'vegas';
  readonly minLimit: number;
  readonly maxLimit: number;
  readonly smoothing: number;
  readonly probeMultiplier: number;
  readonly queueAlpha: number;
  readonly queueBeta: number;
  readonly #random: () => number;
  readonly #noLoad = new NoLoadRtt();
  #limit: number;
  #probeCount = 0;
  #probeJitter: number;

  constructor(options: VegasOptions = {}) {
    optKnownKeys('VegasLimit', options, KEYS);
    const b = readBounds(options, VEGAS_DEFAULTS);
    this.minLimit = b.minLimit;
    this.maxLimit = b.maxLimit;
    this.#limit = b.initialLimit;
    this.smoothing = optNumber('smoothing', options.smoothing ?? VEGAS_DEFAULTS.smoothing, Number.MIN_VALUE, 1);
    this.probeMultiplier = optInt('probeMultiplier', options.probeMultiplier ?? VEGAS_DEFAULTS.probeMultiplier, 1);
    this.queueAlpha = optNumber('queueAlpha', options.queueAlpha ?? VEGAS_DEFAULTS.queueAlpha, Number.MIN_VALUE, 1);
    this.queueBeta = optNumber('queueBeta', options.queueBeta ?? VEGAS_DEFAULTS.queueBeta, Number.MIN_VALUE, 1);
    if (this.queueBeta <= this.queueAlpha) {
      throw new InvalidOptionError('queueBeta', `a number in (queueAlpha (${this.queueAlpha}), 1]`, this.queueBeta);
    }
    this.#random = options.random ?? Math.random;
    this.#probeJitter = this.#jitter();
  }

  get limit(): number {
    return this.#limit;
  }

  /** The no-load RTT the queue is estimated against, ms (0 before the first sample). */
  get rttNoLoadMs(): number {
    return this.#noLoad.value;
  }

  onSample(s: LimitSample): number {
    const limit = this.#limit;
    const lg = log(limit);
    if (!(s.rttMs > 0)) return s.dropped ? this.#apply(limit - lg) : limit;
    this.#probeCount++;
    if (this.#probeJitter * this.probeMultiplier * limit <= this.#probeCount) {
      this.#probeJitter = this.#jitter();
      this.#probeCount = 0;
      this.#noLoad.reset(s.rttMs);
      return limit;
    }
    if (this.#noLoad.update(s.rttMs, Math.min(limit, s.inFlight)) === 'lower') return limit;
    if (s.dropped) return this.#apply(limit - lg);
    if (s.inFlight * 2 < limit) return limit;
    const queue = Math.ceil(limit * (1 - this.#noLoad.value / s.rttMs));
    const alpha = Math.max(1, this.queueAlpha * limit);
    const beta = Math.max(2, this.queueBeta * limit);
    if (queue <= Math.max(1, alpha / 3)) return this.#apply(limit + beta);
    if (queue < alpha) return this.#apply(limit + lg);
    if (queue > beta) return this.#apply(limit - Math.max(lg, (queue - beta) / 2));
    return limit;
  }

  state(): VegasState {
    return { limit: this.#limit, ...this.#noLoad.state(), probeCount: this.#probeCount, probeJitter: this.#probeJitter };
  }

  restore(state: VegasState): void {
    const limit = argNumber('state.limit', state.limit, this.minLimit, this.maxLimit);
    const count = argNumber('state.probeCount', state.probeCount, 0);
    const jitter = argNumber('state.probeJitter', state.probeJitter, 0.5, 1);
    this.#noLoad.restore(state);
    this.#limit = limit;
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
