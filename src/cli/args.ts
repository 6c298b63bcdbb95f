/**
 * Reading command-line values: one message template naming the flag, the range and the value.
 * Durations follow the one convention of every config and scenario file: a unit is required
 * (`100ms`, `6s`, `1.5m`, `1h`, `1d`) and a bare number is refused, so `--duration 6` is an
 * error rather than a guess between seconds and milliseconds.
 */
import { describeDurationRange, parseDuration } from '../gateway/units.js';

export function numberFlag(name: string, value: string | undefined, fallback: number, min: number, max = Infinity): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new Error(`--${name}: expected a number ${range}, received ${JSON.stringify(value)}`);
  }
  return n;
}

/** Milliseconds of a duration flag in [minMs, maxMs]; undefined when the flag is absent. */
export function durationFlag(name: string, value: string | undefined, minMs: number, maxMs: number): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value.trim());
  if (ms === undefined || ms < minMs || ms > maxMs) throw new Error(`--${name}: expected ${describeDurationRange(minMs, maxMs)}, received ${JSON.stringify(value)}`);
  return ms;
}
