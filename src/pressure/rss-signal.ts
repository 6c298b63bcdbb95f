/**
 * Resident set size against the memory the process may use: the cgroup limit when one is
 * set (`process.constrainedMemory()`), else the machine's total memory. Catches what the heap
 * signal cannot: Buffers, native add-ons, fragmentation.
 */
import { totalmem } from 'node:os';
import { InvalidOptionError, optionKeys, optKnownKeys, optNumber } from '../core/index.js';
import { PRESSURE_DEFAULTS } from './defaults.js';
import type { Signal } from './signal.js';
import { signalName } from './signal.js';
import type { WatermarkOptions } from './watermarks.js';
import { resolveWatermarks, WATERMARK_KEYS } from './watermarks.js';

export interface RssSignalOptions extends WatermarkOptions {
  /** @default 'rss' */
  readonly name?: string;
  /** Bytes resident. @default () => process.memoryUsage.rss() */
  readonly rss?: () => number;
  /** Bytes the process may use. > 0. @default the cgroup limit if set, else os.totalmem() */
  readonly limitBytes?: number;
}

/** The cgroup memory limit when one is set and below physical memory, else total memory. */
export function memoryLimit(): number {
  const total = totalmem();
  // Unconstrained processes report undefined, 0, or a huge sentinel (2^64) depending on the platform.
  const constrained = typeof process.constrainedMemory === 'function' ? process.constrainedMemory() : undefined;
  return constrained !== undefined && constrained > 0 && constrained < total ? constrained : total;
}

/** Watermarks as a ratio of the limit, default 0.8 / 0.9 with hysteresis 0.05. */
const KEYS = optionKeys<RssSignalOptions>({ ...WATERMARK_KEYS, name: true, rss: true, limitBytes: true });

export function rssSignal(options: RssSignalOptions = {}): Signal {
  optKnownKeys('rssSignal', options, KEYS);
  const name = signalName('name', options.name, 'rss');
  const rss = options.rss ?? ((): number => process.memoryUsage.rss());
  if (typeof rss !== 'function') throw new InvalidOptionError(`${name}.rss`, 'a function', rss);
  const limit = optNumber(`${name}.limitBytes`, options.limitBytes ?? memoryLimit(), Number.MIN_VALUE);
  const watermarks = resolveWatermarks(name, options, { ...PRESSURE_DEFAULTS.rss, minDwellMs: PRESSURE_DEFAULTS.minDwellMs });
  return { name, watermarks, read: () => rss() / limit };
}
