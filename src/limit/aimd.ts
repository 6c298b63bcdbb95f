/**
 * AIMD: loss-based, like TCP Reno. Netflix concurrency-limits `AIMDLimit`.
 *
 *   drop     = sample.dropped || rttMs > timeoutMs
 *   drop                       → limit' = max(minLimit, ⌊limit · backoffRatio⌋)
 *   else if 2 · inFlight ≥ limit → limit' = min(maxLimit, limit + 1)
 *   else                        → limit' = limit        (app-limited: an idle limit proves nothing)
 *
 * Defaults (Netflix `AIMDLimit.Builder`): initialLimit 20, maxLimit 200, backoffRatio 0.9
 * (range [0.5, 1)), timeout 5 s. The floor makes every drop lower an integer limit by at least 1.
 * Deviation: minLimit defaults to 1 (Netflix: 20) so small dependencies can be protected.
 *
 * AIMD only reacts to drops: it needs a drop signal near the knee — permits released as
 * `dropped` (timeouts, 503s from downstream) or `timeoutMs` set to the latency you accept.
 * Its steady state is a sawtooth between `backoffRatio · L` and `L`, L = where drops begin.
 */
import { optNumber } from '../core/index.js';
import type { LimitAlgorithm, LimitSample } from './algorithm.js';
import { argInt, readBounds } from './bounds.js';
import type { BoundsOptions } from './bounds.js';

export interface AimdOptions extends BoundsOptions {
  /** Multiplier applied on a drop. In [0.5, 1). @default 0.9 */
  readonly backoffRatio?: number;
  /** An RTT above this counts as a drop, ms. > 0. @default 5000 */
  readonly timeoutMs?: number;
}

export const AIMD_DEFAULTS = { initialLimit: 20, minLimit: 1, maxLimit: 200, backoffRatio: 0.9, timeoutMs: 5000 } as const;

export interface AimdState {
  readonly limit: number;
}

export class AimdLimit implements LimitAlgorithm<AimdState> {
  readonly name = 'aimd';
  readonly minLimit: number;
  readonly maxLimit: number;
  readonly backoffRatio: number;
  readonly timeoutMs: number;
  #limit: number;

  constructor(options: AimdOptions = {}) {
    const b = readBounds(options, AIMD_DEFAULTS);
    this.minLimit = b.minLimit;
    this.maxLimit = b.maxLimit;
    this.#limit = b.initialLimit;
    this.backoffRatio = optNumber('backoffRatio', options.backoffRatio ?? AIMD_DEFAULTS.backoffRatio, 0.5, 1 - Number.EPSILON);
    this.timeoutMs = optNumber('timeoutMs', options.timeoutMs ?? AIMD_DEFAULTS.timeoutMs, Number.MIN_VALUE);
  }

  get limit(): number {
    return this.#limit;
  }

  onSample(s: LimitSample): number {
    const limit = this.#limit;
    if (s.dropped || s.rttMs > this.timeoutMs) {
      this.#limit = Math.max(this.minLimit, Math.floor(limit * this.backoffRatio));
    } else if (s.inFlight * 2 >= limit) {
      this.#limit = Math.min(this.maxLimit, limit + 1);
    }
    return this.#limit;
  }

  state(): AimdState {
    return { limit: this.#limit };
  }

  restore(state: AimdState): void {
    this.#limit = argInt('state.limit', state.limit, this.minLimit, this.maxLimit);
  }
}
