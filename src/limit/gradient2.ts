/**
 * Gradient2: delay-based against a slowly moving baseline. Netflix concurrency-limits
 * `Gradient2Limit`. It compares this sample's RTT with a long-term average instead of an
 * all-time minimum, so one freak fast sample cannot pin the baseline low.
 *
 *   shortRtt = rttMs
 *   longRtt  = EWMA(rttMs), weight 2 / (longWindow + 1); the first 10 samples are a plain mean
 *   longRtt / shortRtt > 2        → longRtt ← 0.95 · longRtt   (recover fast after an overload)
 *   2 · inFlight < limit          → limit' = limit             (app-limited)
 *   gradient = max(0.5, min(1, tolerance · longRtt / shortRtt))
 *   limit'   = clamp((1 − smoothing) · limit + smoothing · (limit · gradient + queueSize(limit)), minLimit, maxLimit)
 *
 * Defaults (Netflix `Gradient2Limit.Builder`): initialLimit 20, maxLimit 200, smoothing 0.2,
 * longWindow 600, rttTolerance 1.5, queueSize 4, warm-up 10 samples (`ExpAvgMeasurement(600, 10)`).
 * Deviation: minLimit defaults to 1 (Netflix: 20).
 *
 * Drops are not a separate signal here (as in Netflix): a timed-out request shows up through
 * its long RTT. In a steady overload longRtt catches up with shortRtt, so the gradient creeps
 * back to 1 and the limit drifts up by about smoothing · queueSize per longWindow samples; feed
 * it through a {@link WindowedLimit} so that one update is one window, not one request.
 *
 * Samples with rttMs <= 0 carry no delay information and are ignored.
 */
import { argNumber, InvalidOptionError, optInt, optNumber } from '../core/index.js';
import type { LimitAlgorithm, LimitSample } from './algorithm.js';
import { clamp, readBounds } from './bounds.js';
import type { BoundsOptions } from './bounds.js';

export interface Gradient2Options extends BoundsOptions {
  /** Weight of a new estimate, in (0, 1]. @default 0.2 */
  readonly smoothing?: number;
  /** Samples the long-term RTT average spans (EWMA weight 2 / (n + 1)). Integer >= 1. @default 600 */
  readonly longWindow?: number;
  /** RTT growth over the long-term average tolerated before the limit shrinks. >= 1. @default 1.5 */
  readonly rttTolerance?: number;
  /** Headroom added each update: a number >= 0, or a function of the current limit. @default 4 */
  readonly queueSize?: number | ((limit: number) => number);
}

export const GRADIENT2_DEFAULTS = {
  initialLimit: 20,
  minLimit: 1,
  maxLimit: 200,
  smoothing: 0.2,
  longWindow: 600,
  rttTolerance: 1.5,
  queueSize: 4,
} as const;

/** Samples averaged plainly before the long-term RTT becomes an EWMA (Netflix: 10). */
const WARMUP = 10;

export interface Gradient2State {
  readonly limit: number;
  /** Long-term RTT, ms; 0 before the first sample. */
  readonly longRttMs: number;
  /** Samples folded into longRtt so far, capped at the warm-up count. */
  readonly longRttCount: number;
}

export class Gradient2Limit implements LimitAlgorithm<Gradient2State> {
  readonly name = 'gradient2';
  readonly minLimit: number;
  readonly maxLimit: number;
  readonly smoothing: number;
  readonly longWindow: number;
  readonly rttTolerance: number;
  readonly #queueSize: (limit: number) => number;
  readonly #factor: number;
  #limit: number;
  #longRtt = 0;
  #count = 0;

  constructor(options: Gradient2Options = {}) {
    const b = readBounds(options, GRADIENT2_DEFAULTS);
    this.minLimit = b.minLimit;
    this.maxLimit = b.maxLimit;
    this.#limit = b.initialLimit;
    this.smoothing = optNumber('smoothing', options.smoothing ?? GRADIENT2_DEFAULTS.smoothing, Number.MIN_VALUE, 1);
    this.longWindow = optInt('longWindow', options.longWindow ?? GRADIENT2_DEFAULTS.longWindow, 1);
    this.rttTolerance = optNumber('rttTolerance', options.rttTolerance ?? GRADIENT2_DEFAULTS.rttTolerance, 1);
    const q = options.queueSize ?? GRADIENT2_DEFAULTS.queueSize;
    if (typeof q === 'function') {
      this.#queueSize = q;
    } else if (typeof q === 'number') {
      const n = optNumber('queueSize', q, 0);
      this.#queueSize = () => n;
    } else {
      throw new InvalidOptionError('queueSize', 'a number >= 0 or a function of the limit', q);
    }
    this.#factor = 2 / (this.longWindow + 1);
  }

  get limit(): number {
    return this.#limit;
  }

  /** The long-term RTT average, ms (0 before the first sample). */
  get longRttMs(): number {
    return this.#longRtt;
  }

  onSample(s: LimitSample): number {
    const rtt = s.rttMs;
    if (!(rtt > 0)) return this.#limit;
    if (this.#count < WARMUP) {
      this.#count++;
      this.#longRtt += (rtt - this.#longRtt) / this.#count;
    } else {
      this.#longRtt += this.#factor * (rtt - this.#longRtt);
    }
    const longRtt = this.#longRtt;
    if (longRtt / rtt > 2) this.#longRtt = longRtt * 0.95;
    const limit = this.#limit;
    if (s.inFlight * 2 < limit) return limit;
    const gradient = Math.max(0.5, Math.min(1, (this.rttTolerance * longRtt) / rtt));
    const target = limit * gradient + this.#queueSize(limit);
    this.#limit = clamp((1 - this.smoothing) * limit + this.smoothing * target, this.minLimit, this.maxLimit);
    return this.#limit;
  }

  state(): Gradient2State {
    return { limit: this.#limit, longRttMs: this.#longRtt, longRttCount: this.#count };
  }

  restore(state: Gradient2State): void {
    const limit = argNumber('state.limit', state.limit, this.minLimit, this.maxLimit);
    const rtt = argNumber('state.longRttMs', state.longRttMs, 0);
    const count = argNumber('state.longRttCount', state.longRttCount, 0, WARMUP);
    this.#limit = limit;
    this.#longRtt = rtt;
    this.#count = Math.floor(count);
  }
}
