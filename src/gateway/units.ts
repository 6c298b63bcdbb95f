/**
 * The units a config file writes: durations (`100ms`, `2s`, `1.5m`, `1h`, `1d`), rates
 * (`2000/s`, `100/min`, `5/h`, or a number per second) and sizes (`16kb`, `10mb`, or a
 * number of bytes). The schema checks their syntax; these turn them into numbers.
 *
 * One duration convention everywhere — config files, scenario files, every CLI flag: a
 * duration carries its unit, and a bare number is refused (`timeout: 5000` could mean
 * seconds or milliseconds; the reader should not have to guess). Every duration also has
 * a range (the schema's `durationRange`), never beyond what a Node timer can hold.
 */

export type DurationUnit = 'ms' | 's' | 'm' | 'min' | 'h' | 'd';
/** A duration with its unit: `100ms`, `2s`, `1.5m`, `1h`, `1d`. */
export type Duration = `${number}${DurationUnit}`;
export type Rate = number | string;
export type Size = number | string;

export const DURATION_PATTERN = '^[0-9]+(\\.[0-9]+)?(ms|s|m|min|h|d)$';
export const RATE_PATTERN = '^[0-9]+(\\.[0-9]+)?/(ms|s|sec|m|min|h|hour|d|day)$';
export const SIZE_PATTERN = '^[0-9]+(b|kb|mb|gb)$';

export { TIMER_MAX_MS } from '../core/options.js';

const DURATION_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000, hour: 3_600_000, d: 86_400_000, day: 86_400_000 };
const SIZE_BYTES: Readonly<Record<string, number>> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };
const DURATION_RE = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|min|h|d)$/;

/** Milliseconds of a duration; undefined when `d` is not one (a bare number included). */
export function parseDuration(d: unknown): number | undefined {
  if (typeof d !== 'string') return undefined;
  const m = DURATION_RE.exec(d);
  return m === null ? undefined : Number(m[1]) * DURATION_MS[m[2]!]!;
}

/** Milliseconds of a duration (already validated). */
export function durationMs(d: Duration): number {
  const ms = parseDuration(d);
  if (ms === undefined) throw new RangeError(`not a duration: ${JSON.stringify(d)}`);
  return ms;
}

/** `ms` in the largest unit that writes it exactly: 3600000 → `1h`, 1500 → `1500ms`. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms > 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** A duration range as messages write it: `a duration from 1ms to 1h (with its unit)`. */
export function describeDurationRange(minMs: number, maxMs: number): string {
  return `a duration from ${formatDuration(minMs)} to ${formatDuration(maxMs)} (with its unit: 100ms, 2s, 1.5m, 1h, 1d)`;
}

/** A rate as units per period. */
export function rateOf(r: Rate): { readonly rate: number; readonly perMs: number } {
  if (typeof r === 'number') return { rate: r, perMs: 1000 };
  const m = /^([0-9]+(?:\.[0-9]+)?)\/(ms|s|sec|m|min|h|hour|d|day)$/.exec(r);
  if (m === null) throw new RangeError(`not a rate: ${JSON.stringify(r)}`);
  return { rate: Number(m[1]), perMs: DURATION_MS[m[2]!]! };
}

/** Bytes of a size. */
export function sizeBytes(s: Size): number {
  if (typeof s === 'number') return s;
  const m = /^([0-9]+)(b|kb|mb|gb)$/.exec(s);
  if (m === null) throw new RangeError(`not a size: ${JSON.stringify(s)}`);
  return Number(m[1]) * SIZE_BYTES[m[2]!]!;
}
