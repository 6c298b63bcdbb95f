/**
 * `onBackpressure(strategy)`: for a fast source that must not be slowed down (a hot feed, a
 * sensor, a market ticker). Upstream is asked for everything; what downstream has not asked
 * for waits in a bounded buffer with the strategy's policy, every drop counted and reported:
 *
 *  - `'drop'`: items that arrive when the buffer (default 1) is full are dropped;
 *  - `'latest'`: the buffer keeps the latest item: the most recently buffered one is replaced;
 *  - `'error'`: the stream fails with RejectedError `queue_full` when the buffer is full;
 *  - `'drop-oldest'`: the oldest buffered item gives way to the new one.
 *
 * It is `buffer(capacity, overflow)` with a non-blocking overflow; see buffer.ts.
 */
import { optionKeys, optKnownKeys } from '../../core/option-keys.js';
import { optOneOf } from '../../core/options.js';
import type { Operator } from '../types.js';
import { buffer } from './buffer.js';
import type { BufferOptions } from './buffer.js';

export type BackpressureStrategy = 'drop' | 'latest' | 'error' | 'drop-oldest';
const STRATEGIES: readonly BackpressureStrategy[] = ['drop', 'latest', 'error', 'drop-oldest'];
const OVERFLOW = { drop: 'drop-newest', latest: 'drop-latest', error: 'error', 'drop-oldest': 'drop-oldest' } as const;

export interface OnBackpressureOptions<T> extends BufferOptions<T> {
  /** Items held for downstream. Integer >= 1. @default 1 */
  readonly capacity?: number;
}

const ON_BACKPRESSURE_KEYS = optionKeys<OnBackpressureOptions<unknown>>({ capacity: true, onDrop: true, name: true, meter: true, onChannel: true });

export function onBackpressure<T>(strategy: BackpressureStrategy, options?: OnBackpressureOptions<T>): Operator<T, T> {
  const s = optOneOf('onBackpressure(strategy)', strategy, STRATEGIES);
  optKnownKeys('onBackpressure', options, ON_BACKPRESSURE_KEYS);
  const { capacity, ...rest } = options ?? {};
  return buffer<T>(capacity ?? 1, OVERFLOW[s], { name: `onBackpressure(${s})`, ...rest });
}
