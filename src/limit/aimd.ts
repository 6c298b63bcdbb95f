/**
 * AIMD: loss-based, like TCP Reno. Netflix concurrency-limits `AIMDLimit`, plus a relative
 * delay signal so that it finds a knee without a hand-set timeout.
 *
 *   rttNoLoad = the no-load RTT (./no-load-rtt.ts: the minimum RTT, re-measured when the RTT
 *               does not follow a backoff down — the dependency got slower, it is not queueing)
 *   drop      = sample.dropped || rttMs > timeoutMs || rttMs > rttTolerance · rttNoLoad
 *   drop                       → limit' = max(minLimit, ⌊limit · backoffRatio⌋)
 *   else if 2 · inFlight ≥ limit → limit' = min(maxLimit, limit + 1)
 *   else                        → limit' = limit        (app-limited: an idle limit proves nothing)
 *
 * Steady state: a sawtooth that climbs to P ≈ rttTolerance · knee (the RTT crosses
 * rttTolerance × no-load where the queue is (rttTolerance − 1) · knee) and backs off to
 * backoffRatio · P; its depth is 1 − backoffRatio plus one window's overshoot.
 *
 * Defaults: initialLimit 20, maxLimit 200, timeoutMs 5 s (Netflix `AIMDLimit.Builder`).
 * Deviations, measured by `npm run sim:adaptive`:
 * - rttTolerance 1.05 (Netflix has only the absolute timeout): an absolute threshold set near
 *   the knee turns a dependency that gets 2x slower into a drop on every window (the limit
 *   collapses to minLimit); one set at 5 s sees nothing before clients time out. Infinity
 *   turns the relative signal off (Netflix's behaviour).
 * - backoffRatio 0.95 (Netflix: 0.9): the sawtooth is 1 − backoffRatio deep, and 0.9 plus a
 *   window's overshoot is more than the 10 % of the limit the steady state may swing.
 * - minLimit 1 (Netflix: 20) so small dependencies can be protected.
 * The floor makes every drop lower an integer limit by at least 1.
 */
import { optionKeys, optKnownKeys, optNumber } from '../core/index.js';
import type { LimitAlgorithm, LimitSample } from './algorithm.js';
import { argInt, readBounds } from './bounds.js';
import type { BoundsOptions } from './bounds.js';
import { NoLoadRtt } from './no-load-rtt.js';
import type { NoLoadRttState } from './no-load-rtt.js';
import { deepFreeze } from '../core/deep-freeze.js';

export interface AimdOptions extends BoundsOptions {
  /** Multiplier applied on a drop. In [0.5, 1). @default 0.95 */
  readonly backoffRatio?: number;
  /** An RTT above this counts as a drop, ms. > 0. @default 5000 */
  readonly timeoutMs?: number;
  /** An RTT above this multiple of the no-load RTT counts as a drop. >= 1; Infinity turns it off. @default 1.05 */
  readonly rttTolerance?: number;
}

export const AIMD_DEFAULTS = deepFreeze({
  initialLimit: 20,
  minLimit: 1,
  maxLimit: 200,
  backoffRatio: 0.95,
  timeoutMs: 5000,
  rttTolerance: 1.05,
} as const);

export interface AimdState extends NoLoadRttState {
  readonly limit: number;
}

const KEYS = optionKeys<AimdOptions>({ initialLimit: true, minLimit: true, maxLimit: true, backoffRatio: true, timeoutMs: true, rttTolerance: true });

export class AimdLimit implements LimitAlgorithm<AimdState> {
  readonly name = 'aimd';
  readonly minLimit: number;
  readonly maxLimit: number;
  readonly backoffRatio: number;
  readonly timeoutMs: number;
  readonly rttTolerance: number;
  readonly #noLoad = new NoLoadRtt();
  #limit: number;

  constructor(options: AimdOptions = {}) {
    optKnownKeys('AimdLimit', options, KEYS);
    const b = readBounds(options, AIMD_DEFAULTS);
    this.minLimit = b.minLimit;
    this.maxLimit = b.maxLimit;
    this.#limit = b.initialLimit;
    this.backoffRatio = optNumber('backoffRatio', options.backoffRatio ?? AIMD_DEFAULTS.backoffRatio, 0.5, 1 - Number.EPSILON);
    this.timeoutMs = optNumber('timeoutMs', options.timeoutMs ?? AIMD_DEFAULTS.timeoutMs, Number.MIN_VALUE);
    this.rttTolerance = optNumber('rttTolerance', options.rttTolerance ?? AIMD_DEFAULTS.rttTolerance, 1);
  }

  get limit(): number {
    return this.#limit;
  }

  /** The no-load RTT the relative drop signal compares with, ms (0 before the first sample). */
  get rttNoLoadMs(): number {
    return this.#noLoad.value;
  }

  onSample(s: LimitSample): number {
    const limit = this.#limit;
    if (s.rttMs > 0) this.#noLoad.update(s.rttMs, Math.min(limit, s.inFlight));
    if (s.dropped || s.rttMs > this.timeoutMs || s.rttMs > this.rttTolerance * this.#noLoad.value) {
      this.#limit = Math.max(this.minLimit, Math.floor(limit * this.backoffRatio));
    } else if (s.inFlight * 2 >= limit) {
      this.#limit = Math.min(this.maxLimit, limit + 1);
    }
    return this.#limit;
  }

  state(): AimdState {
    return { limit: this.#limit, ...this.#noLoad.state() };
  }

  restore(state: AimdState): void {
    const limit = argInt('state.limit', state.limit, this.minLimit, this.maxLimit);
    this.#noLoad.restore(state);
    this.#limit = limit;
  }
}
