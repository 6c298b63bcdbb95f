/**
 * A pressure signal: a named reading with watermarks. Signals are plain definitions (how to
 * read, where the watermarks are); the level state lives in the monitor that samples them.
 * Every built-in signal takes an injectable source, and {@link customSignal} wraps any
 * function, so tests run on a virtual clock with synthetic readings.
 */
import { InvalidArgumentError, InvalidOptionError } from '../core/index.js';
import { PRESSURE_DEFAULTS } from './defaults.js';
import type { PressureLevel } from './level.js';
import type { WatermarkOptions, Watermarks } from './watermarks.js';
import { resolveWatermarks } from './watermarks.js';

export interface Signal {
  /** Unique within a monitor; names the signal in snapshots and events. */
  readonly name: string;
  readonly watermarks: Watermarks;
  /**
   * The reading now, in the signal's unit. Called once per sample. A reading that throws or
   * is NaN is skipped: the signal keeps its level until the next good one.
   */
  read(): number;
  /** Called when a monitor starts sampling (enable a histogram, take a baseline, subscribe). */
  start?(): void;
  /** Called when the monitor stops; must undo `start`. */
  stop?(): void;
}

/** One signal in a monitor snapshot. */
export interface SignalSnapshot {
  readonly name: string;
  /** Last good reading (NaN before the first sample). */
  readonly value: number;
  /** The signal's own level, with its hysteresis. */
  readonly level: PressureLevel;
  /** The last reading as a pressure in [0, 1] (0 at `slowAt`, 1 at `rejectAt`). */
  readonly pressure: number;
  /** Clock time at which `level` was entered. */
  readonly since: number;
}

export interface CustomSignalOptions extends WatermarkOptions {
  /** Non-empty. */
  readonly name: string;
  /** The reading; any unit, as long as the watermarks use the same one. */
  readonly read: () => number;
  /** Required for a custom signal. */
  readonly slowAt: number;
  /** Required for a custom signal. */
  readonly rejectAt: number;
  readonly start?: () => void;
  readonly stop?: () => void;
}

export function signalName(option: string, value: unknown, fallback: string): string {
  const name = value ?? fallback;
  if (typeof name !== 'string' || name.length === 0) throw new InvalidOptionError(option, 'a non-empty string', value);
  return name;
}

/** A signal read from any function: a gauge of your own, or synthetic readings in a test. */
export function customSignal(options: CustomSignalOptions): Signal {
  // No key check: the brokers' monitors hand their own options over whole (lag-monitor.ts).
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidArgumentError('options', 'an object of customSignal options', options);
  const name = signalName('name', options.name, '');
  if (typeof options.read !== 'function') throw new InvalidOptionError(`${name}.read`, 'a function', options.read);
  const watermarks = resolveWatermarks(name, options, { hysteresis: PRESSURE_DEFAULTS.hysteresis, minDwellMs: PRESSURE_DEFAULTS.minDwellMs });
  const s: { -readonly [K in keyof Signal]: Signal[K] } = { name, watermarks, read: options.read };
  if (options.start !== undefined) s.start = options.start;
  if (options.stop !== undefined) s.stop = options.stop;
  return s;
}
