/**
 * V8 heap: `process.memoryUsage().heapUsed / v8.getHeapStatistics().heap_size_limit`. Near the
 * limit V8 collects garbage back to back and the process stalls before it dies of OOM, so
 * this signal is worth having on any server that buffers.
 */
import { getHeapStatistics } from 'node:v8';
import { InvalidOptionError, optionKeys, optKnownKeys, optNumber } from '../core/index.js';
import { PRESSURE_DEFAULTS } from './defaults.js';
import type { Signal } from './signal.js';
import { signalName } from './signal.js';
import type { WatermarkOptions } from './watermarks.js';
import { resolveWatermarks, WATERMARK_KEYS } from './watermarks.js';

export interface HeapSignalOptions extends WatermarkOptions {
  /** @default 'heap' */
  readonly name?: string;
  /** Bytes of heap in use. @default () => process.memoryUsage().heapUsed */
  readonly heapUsed?: () => number;
  /** Bytes the heap may grow to. > 0. @default v8.getHeapStatistics().heap_size_limit */
  readonly heapLimit?: number;
}

/** Watermarks as a ratio of the heap limit, default 0.8 / 0.9 with hysteresis 0.05. */
const KEYS = optionKeys<HeapSignalOptions>({ ...WATERMARK_KEYS, name: true, heapUsed: true, heapLimit: true });

export function heapSignal(options: HeapSignalOptions = {}): Signal {
  optKnownKeys('heapSignal', options, KEYS);
  const name = signalName('name', options.name, 'heap');
  const heapUsed = options.heapUsed ?? ((): number => process.memoryUsage().heapUsed);
  if (typeof heapUsed !== 'function') throw new InvalidOptionError(`${name}.heapUsed`, 'a function', heapUsed);
  const limit = optNumber(`${name}.heapLimit`, options.heapLimit ?? getHeapStatistics().heap_size_limit, Number.MIN_VALUE);
  const watermarks = resolveWatermarks(name, options, { ...PRESSURE_DEFAULTS.heap, minDwellMs: PRESSURE_DEFAULTS.minDwellMs });
  return { name, watermarks, read: () => heapUsed() / limit };
}
