/**
 * The units a config file writes: durations (`100ms`, `2s`, `1.5m`, `1h`, `1d`, or a number of
 * ms), rates (`2000/s`, `100/min`, `5/h`, or a number per second) and sizes (`16kb`, `10mb`,
 * or a number of bytes). The schema checks their syntax; these turn them into numbers.
 */

export type Duration = number | string;
export type Rate = number | string;
export type Size = number | string;

export const DURATION_PATTERN = '^[0-9]+(\\.[0-9]+)?(ms|s|m|min|h|d)$';
export const RATE_PATTERN = '^[0-9]+(\\.[0-9]+)?/(ms|s|sec|m|min|h|hour|d|day)$';
export const SIZE_PATTERN = '^[0-9]+(b|kb|mb|gb)$';

const DURATION_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000, hour: 3_600_000, d: 86_400_000, day: 86_400_000 };
const SIZE_BYTES: Readonly<Record<string, number>> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** Milliseconds of a duration. */
export function durationMs(d: Duration): number {
  if (typeof d === 'number') return d;
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|min|h|d)$/.exec(d);
  if (m === null) throw new RangeError(`not a duration: ${JSON.stringify(d)}`);
  return Number(m[1]) * DURATION_MS[m[2]!]!;
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
