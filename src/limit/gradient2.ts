/**
 * Gradient2: delay-based, after Netflix concurrency-limits `Gradient2Limit`. It scales the
 * limit by the ratio of a baseline RTT to this sample's RTT and adds a little headroom.
 *
 *   rttNoLoad = the no-load RTT (./no-load-rtt.ts: the minimum RTT, re-measured when a cut in
 *               the limit leaves the RTT where it was — the dependency got slower)
 *   2 · inFlight < limit → limit' = limit             (app-limited)
 *   gradient = max(0.5, min(1, rttTolerance · rttNoLoad / rtt))
 *   limit'   = clamp((1 − smoothing) · limit + smoothing · (limit · gradient + queueSize(limit)), minLimit, maxLimit)
 *
 * Above the knee C of a dependency whose RTT grows with concurrency (rtt = rttNoLoad · limit / C),
 * limit · gradient = rttTolerance · C, so the fixed point is limit = rttTolerance · C + queueSize;
 * below it the gradient is 1 and the limit grows by smoothing · queueSize per update.
 *
 * Defaults: initialLimit 20, maxLimit 200, queueSize 4 (Netflix `Gradient2Limit.Builder`).
 * Deviations, measured by `npm run sim:adaptive`:
 * - the baseline is the no-load RTT, not Netflix's long-term EWMA of the RTT (longWindow 600,
 *   with a 0.95 decay when it is over twice the sample). Under a standing overload that average
 *   is an average of the loaded RTT: it catches up with the sample, the gradient returns to 1
 *   and the limit climbs by smoothing · queueSize per update to maxLimit (Netflix issue #137).
 *   A minimum cannot drift up; it is re-measured, like Envoy's gradient controller re-measures
 *   its minRTT, but from the algorithm's own cuts instead of a periodic drop to a floor.
 * - rttTolerance 1 (Netflix: 1.5): with the fixed point at rttTolerance · C + queueSize, 1.5
 *   holds the limit 50 % over the knee. Netflix's 1.5 allowed for an average baseline that
 *   itself carries the RTT's noise; a minimum of window averages (use WindowedLimit) already does.
 * - smoothing 0.5 (Netflix: 0.2): below the knee the limit grows by smoothing · queueSize per
 *   update, 0.8 with Netflix's values — 5 s of 100 ms windows to climb from a knee of 50 to 90.
 * - minLimit 1 (Netflix: 20).
 *
 * Drops are not a separate signal here (as in Netflix): a timed-out request shows up through
 * its long RTT. Samples with rttMs <= 0 carry no delay information and are ignored.
 */
import { argNumber, InvalidOptionError, optionKeys, optKnownKeys, optNumber } from '../core/index.js';
import type { LimitAlgorithm, LimitSample } from './algorithm.js';
import { clamp, readBounds } from './bounds.js';
import type { BoundsOptions } from './bounds.js';
import { NoLoadRtt } from './no-load-rtt.js';
import type { NoLoadRttState } from './no-load-rtt.js';
import { deepFreeze } from '../core/deep-freeze.js';

export interface Gradient2Options extends BoundsOptions {
  /** Weight of a new estimate, in (0, 1]. @default 0.5 */
  readonly smoothing?: number;
  /** RTT growth over the no-load RTT tolerated before the limit shrinks. >= 1. @default 1 */
  readonly rttTolerance?: number;
  /** Headroom added each update: a number >= 0, or a function of the current limit. @default 4 */
  readonly queueSize?: number | ((limit: number) => number);
}

export const GRADIENT2_DEFAULTS = deepFreeze({
  initialLimit: 20,
  minLimit: 1,
  maxLimit: 200,
  smoothing: 0.5,
  rttTolerance: 1,
  queueSize: 4,
} as const);

export interface Gradient2State extends NoLoadRttState {
  readonly limit: number;
}

const KEYS = optionKeys<Gradient2Options>({ initialLimit: true, minLimit: true, maxLimit: true, rttTolerance: true, smoothing: true, queueSize: true });

export class Gradient2Limit implements LimitAlgorithm<Gradient2State> {
  readonly name = 'gradient2';
  readonly minLimit: number;
  readonly maxLimit: number;
  readonly smoothing: number;
  readonly rttTolerance: number;
  readonly #queueSize: (limit: number) => number;
  readonly #noLoad = new NoLoadRtt();
  #limit: number;

  constructor(options: Gradient2Options = {}) {
    optKnownKeys('Gradient2Limit', options, KEYS);
    const b = readBounds(options, GRADIENT2_DEFAULTS);
    this.minLimit = b.minLimit;
    this.maxLimit = b.maxLimit;
    this.#limit = b.initialLimit;
    this.smoothing = optNumber('smoothing', options.smoothing ?? GRADIENT2_DEFAULTS.smoothing, Number.MIN_VALUE, 1);
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
  }

  get limit(): number {
    return this.#limit;
  }

  /** The no-load RTT the gradient is taken against, ms (0 before the first sample). */
  get rttNoLoadMs(): number {
    return this.#noLoad.value;
  }

  onSample(s: LimitSample): number {
    const rtt = s.rttMs;
    if (!(rtt > 0)) return this.#limit;
    const limit = this.#limit;
    this.#noLoad.update(rtt, Math.min(limit, s.inFlight));
    if (s.inFlight * 2 < limit) return limit;
    const gradient = Math.max(0.5, Math.min(1, (this.rttTolerance * this.#noLoad.value) / rtt));
    const target = limit * gradient + this.#queueSize(limit);
    this.#limit = clamp((1 - this.smoothing) * limit + this.smoothing * target, this.minLimit, this.maxLimit);
    return this.#limit;
  }

  state(): Gradient2State {
    return { limit: this.#limit, ...this.#noLoad.state() };
  }

  restore(state: Gradient2State): void {
    const limit = argNumber('state.limit', state.limit, this.minLimit, this.maxLimit);
    this.#noLoad.restore(state);
    this.#limit = limit;
  }
}
