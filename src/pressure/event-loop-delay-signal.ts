/**
 * Event-loop delay from `perf_hooks.monitorEventLoopDelay`: a libuv timer fires every
 * `resolutionMs` and records how long each period really took. The reading is a percentile of
 * one sampling interval minus the resolution (the delay beyond schedule), in ms; the histogram
 * is reset after every reading.
 *
 * Node drops the first period after a reset (it has no previous tick to measure from), so a
 * block that starts within `resolutionMs` after a sample may go unseen; at the defaults that is
 * 1 % of the time. Lower `resolutionMs` narrows the gap at a small cost.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { InvalidOptionError, optInt, optionKeys, optKnownKeys, optNumber } from '../core/index.js';
import { PRESSURE_DEFAULTS } from './defaults.js';
import type { Signal } from './signal.js';
import { signalName } from './signal.js';
import type { WatermarkOptions } from './watermarks.js';
import { resolveWatermarks, WATERMARK_KEYS } from './watermarks.js';

/** The part of Node's `IntervalHistogram` the signal uses; values in nanoseconds. */
export interface DelayHistogram {
  readonly count: number;
  percentile(percentile: number): number;
  reset(): void;
  enable(): unknown;
  disable(): unknown;
}

export interface EventLoopDelaySignalOptions extends WatermarkOptions {
  /** @default 'event-loop-delay' */
  readonly name?: string;
  /** Percentile of the interval's delays that is read, in (0, 100]; 100 is the maximum. @default 99 */
  readonly percentile?: number;
  /** Period of the measuring timer, ms. Integer >= 1. @default 10 */
  readonly resolutionMs?: number;
  /** Replaces `monitorEventLoopDelay({ resolution })` (tests inject synthetic delays). */
  readonly histogram?: DelayHistogram;
}

/** Watermarks in ms of delay beyond schedule, default 50 / 200 with hysteresis 20. */
const KEYS = optionKeys<EventLoopDelaySignalOptions>({ ...WATERMARK_KEYS, name: true, percentile: true, resolutionMs: true, histogram: true });

export function eventLoopDelaySignal(options: EventLoopDelaySignalOptions = {}): Signal {
  optKnownKeys('eventLoopDelaySignal', options, KEYS);
  const d = PRESSURE_DEFAULTS.eventLoopDelay;
  const name = signalName('name', options.name, 'event-loop-delay');
  const percentile = optNumber(`${name}.percentile`, options.percentile ?? d.percentile, Number.MIN_VALUE, 100);
  const resolutionMs = optInt(`${name}.resolutionMs`, options.resolutionMs ?? d.resolutionMs, 1, 60_000);
  const injected = options.histogram;
  if (injected !== undefined && typeof injected.percentile !== 'function') {
    throw new InvalidOptionError(`${name}.histogram`, 'an object with percentile(), reset(), enable(), disable()', injected);
  }
  const watermarks = resolveWatermarks(name, options, { ...d, minDwellMs: PRESSURE_DEFAULTS.minDwellMs });
  let histogram: DelayHistogram | undefined = injected;
  let running = false;
  return {
    name,
    watermarks,
    read: () => {
      if (histogram === undefined || histogram.count === 0) return 0;
      const ms = histogram.percentile(percentile) / 1e6 - resolutionMs;
      histogram.reset();
      return ms > 0 ? ms : 0;
    },
    start: () => {
      if (running) return;
      running = true;
      histogram ??= monitorEventLoopDelay({ resolution: resolutionMs });
      histogram.reset();
      histogram.enable();
    },
    stop: () => {
      if (!running) return;
      running = false;
      histogram?.disable();
    },
  };
}
