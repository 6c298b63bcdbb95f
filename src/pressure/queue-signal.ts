/**
 * Queue utilisation: items (or waiters) queued divided by a capacity. Reads any object whose
 * `stats()` has `queued` and `limit` (every sluice gate and channel), or a function that
 * returns a depth.
 */
import { InvalidOptionError, optionKeys, optKnownKeys, optNumber } from '../core/index.js';
import { PRESSURE_DEFAULTS } from './defaults.js';
import type { Signal } from './signal.js';
import { signalName } from './signal.js';
import type { WatermarkOptions } from './watermarks.js';
import { resolveWatermarks, WATERMARK_KEYS } from './watermarks.js';

/** What a queue signal reads: a sluice gate, a channel, or anything with the same two stats. */
export interface QueueStatsSource {
  stats(): { readonly queued: number; readonly limit: number };
}

export interface QueueSignalOptions extends WatermarkOptions {
  /** @default 'queue' */
  readonly name?: string;
  /**
   * Divisor of the depth. > 0. @default the source's `stats().limit` (a channel's capacity; for
   * a concurrency gate, its limit — pass its `maxQueue` to measure how full the wait queue is).
   * Required when the source is a function.
   */
  readonly capacity?: number;
}

/**
 * `queued / capacity` as a ratio (can exceed 1 when the capacity is not the queue's bound).
 * Watermarks default to 0.7 / 0.9 with hysteresis 0.1.
 */
const QUEUE_SIGNAL_KEYS = optionKeys<QueueSignalOptions>({ ...WATERMARK_KEYS, name: true, capacity: true });

export function queueSignal(source: QueueStatsSource | (() => number), options: QueueSignalOptions = {}): Signal {
  optKnownKeys('queueSignal', options, QUEUE_SIGNAL_KEYS);
  const name = signalName('name', options.name, 'queue');
  const capacity = options.capacity === undefined ? undefined : optNumber(`${name}.capacity`, options.capacity, Number.MIN_VALUE);
  const watermarks = resolveWatermarks(name, options, { ...PRESSURE_DEFAULTS.queue, minDwellMs: PRESSURE_DEFAULTS.minDwellMs });
  if (typeof source === 'function') {
    if (capacity === undefined) throw new InvalidOptionError(`${name}.capacity`, 'a number > 0 when the source is a function', undefined);
    return { name, watermarks, read: () => source() / capacity };
  }
  if (typeof source?.stats !== 'function') throw new InvalidOptionError(`${name}.source`, 'an object with stats() or a function', source);
  return {
    name,
    watermarks,
    read: () => {
      const s = source.stats();
      const cap = capacity ?? s.limit;
      return cap > 0 && Number.isFinite(cap) ? s.queued / cap : 0;
    },
  };
}
