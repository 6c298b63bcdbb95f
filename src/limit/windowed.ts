/**
 * A windowed sampler in front of an algorithm (Netflix concurrency-limits `WindowedLimit`):
 * it folds the samples of a window into one and feeds that to the algorithm, so the limit
 * moves once per window (a few RTTs), not once per request. Per-request updates react to
 * samples that started under an older limit and overshoot; they also multiply the upward
 * drift of Gradient2 and the probe rate of Vegas by the request rate.
 *
 * Windows are measured in release times (startTime + rttMs). A window opens with its first
 * sample and lasts
 *   duration = clamp(2 · min RTT of the previous window, minWindowMs, maxWindowMs)
 * It closes on the first sample that ends past `start + duration` once it holds minSamples, or
 * at maxSamples whatever its age. A window older than maxWindowMs with fewer than minSamples is
 * discarded (too little traffic to judge), as in Netflix. The window's sample is
 *   rttMs    = average RTT, or the `percentile` RTT (nearest rank) when given
 *   inFlight = maximum in-flight seen
 *   dropped  = any sample dropped
 *   startTime = the window's opening time
 * A sample granted before the last window that changed the (rounded) limit closed is left out
 * of the next windows (its drop still counts): it ran under the old limit. Without this a
 * window after a cut mixes in RTTs of the higher concurrency (and after a rise, of the lower),
 * and the algorithm reads the lag as a property of the new limit — Vegas and Gradient2
 * overshoot, and the no-load RTT's re-measurement (./no-load-rtt.ts) can mistake a queue that
 * has not drained yet for a slower dependency. Netflix counts every sample.
 *
 * Defaults: minSamples 10 (Netflix `windowSize`), aggregation average (Netflix
 * `AverageSampleWindowFactory`). Deviations: minWindowMs 100 and maxWindowMs 1000 (Netflix: 1 s
 * both) — a 1 s window makes one +6 Vegas step per second, too slow to follow a load step;
 * maxSamples 1000 bounds the memory a percentile window holds (Netflix sizes its array by
 * windowSize).
 */
import { argNumber, InvalidArgumentError, optInt, optionKeys, optKnownKeys, optNumber } from '../core/index.js';
import type { LimitAlgorithm, LimitSample } from './algorithm.js';
import { deepFreeze } from '../core/deep-freeze.js';

export interface WindowedOptions {
  /** Shortest window, ms. > 0. @default 100 */
  readonly minWindowMs?: number;
  /** Longest window, ms. >= minWindowMs. @default 1000 */
  readonly maxWindowMs?: number;
  /** Samples a window needs before it counts. Integer >= 1. @default 10 */
  readonly minSamples?: number;
  /** A window closes at this many samples whatever its age. Integer >= minSamples. @default 1000 */
  readonly maxSamples?: number;
  /** Aggregate RTT by this percentile, in (0, 1], instead of the average. @default undefined (average) */
  readonly percentile?: number;
}

export const WINDOWED_DEFAULTS = deepFreeze({ minWindowMs: 100, maxWindowMs: 1000, minSamples: 10, maxSamples: 1000 } as const);

const KEYS = optionKeys<WindowedOptions>({ minWindowMs: true, maxWindowMs: true, minSamples: true, maxSamples: true, percentile: true });

export interface WindowedState<S> {
  readonly inner: S;
  /** Opening time of the open window (ms), or -1 when none is open. */
  readonly start: number;
  /** Duration of the open window, ms. */
  readonly duration: number;
  readonly count: number;
  readonly sumRttMs: number;
  /** Smallest RTT in the open window; Infinity when empty (serialised as null by JSON). */
  readonly minRttMs: number;
  readonly maxInFlight: number;
  readonly dropped: boolean;
  /** RTTs of the open window (percentile mode only). */
  readonly rtts: readonly number[];
  /** Release time at which a window last changed the (rounded) limit; -Infinity before (null in JSON). */
  readonly changedAt: number;
}

export class WindowedLimit<S = unknown> implements LimitAlgorithm<WindowedState<S>> {
  readonly name: string;
  readonly inner: LimitAlgorithm<S>;
  readonly minWindowMs: number;
  readonly maxWindowMs: number;
  readonly minSamples: number;
  readonly maxSamples: number;
  readonly percentile: number | undefined;
  #start = -1;
  #duration: number;
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #maxInFlight = 0;
  #dropped = false;
  #rtts: number[] = [];
  /** Release time at which the last delivered window changed the limit; -Infinity before. */
  #changedAt = -Infinity;

  constructor(inner: LimitAlgorithm<S>, options: WindowedOptions = {}) {
    if (typeof inner?.onSample !== 'function') throw new InvalidArgumentError('inner', 'a limit algorithm (AimdLimit, VegasLimit, Gradient2Limit, ...)', inner);
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidArgumentError('options', 'an object of WindowedLimit options', options);
    optKnownKeys('WindowedLimit', options, KEYS);
    this.inner = inner;
    this.name = `windowed(${inner.name})`;
    this.minWindowMs = optNumber('minWindowMs', options.minWindowMs ?? WINDOWED_DEFAULTS.minWindowMs, Number.MIN_VALUE);
    const maxDefault = Math.max(WINDOWED_DEFAULTS.maxWindowMs, this.minWindowMs);
    this.maxWindowMs = optNumber('maxWindowMs', options.maxWindowMs ?? maxDefault, this.minWindowMs);
    this.minSamples = optInt('minSamples', options.minSamples ?? WINDOWED_DEFAULTS.minSamples, 1);
    const maxSamplesDefault = Math.max(WINDOWED_DEFAULTS.maxSamples, this.minSamples);
    this.maxSamples = optInt('maxSamples', options.maxSamples ?? maxSamplesDefault, this.minSamples);
    this.percentile = options.percentile === undefined ? undefined : optNumber('percentile', options.percentile, Number.MIN_VALUE, 1);
    this.#duration = this.minWindowMs;
  }

  get limit(): number {
    return this.inner.limit;
  }

  get minLimit(): number {
    return this.inner.minLimit;
  }

  get maxLimit(): number {
    return this.inner.maxLimit;
  }

  onSample(s: LimitSample): number {
    const end = s.startTime + s.rttMs;
    if (s.dropped) this.#dropped = true;
    // Granted before the limit last changed: it measures the old limit, not this one.
    if (s.startTime < this.#changedAt) return this.inner.limit;
    if (this.#start < 0) this.#start = end;
    this.#count++;
    this.#sum += s.rttMs;
    if (s.rttMs < this.#min) this.#min = s.rttMs;
    if (s.inFlight > this.#maxInFlight) this.#maxInFlight = s.inFlight;
    if (this.percentile !== undefined) this.#rtts.push(s.rttMs);
    const age = end - this.#start;
    if (this.#count >= this.maxSamples || (age >= this.#duration && this.#count >= this.minSamples)) return this.#close(true, end);
    if (age >= this.maxWindowMs) return this.#close(false, end);
    return this.inner.limit;
  }

  state(): WindowedState<S> {
    return {
      inner: this.inner.state(),
      start: this.#start,
      duration: this.#duration,
      count: this.#count,
      sumRttMs: this.#sum,
      minRttMs: this.#min,
      maxInFlight: this.#maxInFlight,
      dropped: this.#dropped,
      rtts: [...this.#rtts],
      changedAt: this.#changedAt,
    };
  }

  restore(state: WindowedState<S>): void {
    const start = argNumber('state.start', state.start, -1);
    const duration = argNumber('state.duration', state.duration, this.minWindowMs, this.maxWindowMs);
    const count = argNumber('state.count', state.count, 0, this.maxSamples);
    const sum = argNumber('state.sumRttMs', state.sumRttMs, 0);
    // JSON turns Infinity into null: an empty window.
    const min = (state.minRttMs as number | null) === null ? Infinity : argNumber('state.minRttMs', state.minRttMs, 0);
    const maxInFlight = argNumber('state.maxInFlight', state.maxInFlight, 0);
    if (!Array.isArray(state.rtts)) throw new InvalidArgumentError('state.rtts', 'an array of numbers', state.rtts);
    const rtts = state.rtts.map((r, i) => argNumber(`state.rtts[${i}]`, r, 0));
    const changedAt = (state.changedAt as number | null) === null ? -Infinity : argNumber('state.changedAt', state.changedAt, -Infinity);
    this.inner.restore(state.inner);
    this.#start = start;
    this.#duration = duration;
    this.#count = count;
    this.#sum = sum;
    this.#min = min;
    this.#maxInFlight = maxInFlight;
    this.#dropped = state.dropped === true;
    this.#rtts = rtts;
    this.#changedAt = changedAt;
  }

  #close(deliver: boolean, close: number): number {
    const sample: LimitSample = { startTime: this.#start, rttMs: this.#tracked(), inFlight: this.#maxInFlight, dropped: this.#dropped };
    const min = this.#min;
    this.#start = -1;
    this.#count = 0;
    this.#sum = 0;
    this.#min = Infinity;
    this.#maxInFlight = 0;
    this.#dropped = false;
    this.#rtts = [];
    if (!deliver) return this.inner.limit;
    this.#duration = Math.min(Math.max(2 * min, this.minWindowMs), this.maxWindowMs);
    const before = this.inner.limit;
    const after = this.inner.onSample(sample);
    if (Math.round(after) !== Math.round(before)) this.#changedAt = close;
    return after;
  }

  /** Average RTT, or the nearest-rank percentile (Netflix `ImmutablePercentileSampleWindow`). */
  #tracked(): number {
    if (this.percentile === undefined) return this.#count === 0 ? 0 : this.#sum / this.#count;
    const sorted = this.#rtts.sort((a, b) => a - b);
    const rank = Math.max(1, Math.round(sorted.length * this.percentile));
    return sorted[rank - 1] ?? 0;
  }
}
