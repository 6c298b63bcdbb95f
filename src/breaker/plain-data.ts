/**
 * Checks for plain data restored from outside (an exported breaker state read back from a
 * store): each failure names the path of the bad field.
 */
import { InvalidArgumentError } from '../core/index.js';

export function asRecord(data: unknown, path: string): Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new InvalidArgumentError(path, 'an object', data);
  return data as Record<string, unknown>;
}

/** A finite number in [min, max]. */
export function numberAt(obj: Record<string, unknown>, key: string, path: string, min = -Infinity, max = Infinity): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new InvalidArgumentError(`${path}.${key}`, `a finite number in [${min}, ${max}]`, v);
  }
  return v;
}

/** An integer in [min, max]. */
export function intAt(obj: Record<string, unknown>, key: string, path: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const v = numberAt(obj, key, path, min, max);
  if (!Number.isInteger(v)) throw new InvalidArgumentError(`${path}.${key}`, `an integer in [${min}, ${max}]`, v);
  return v;
}

/** An array of `length` integers, each in [min, max]; returned as a copy. */
export function intArrayAt(obj: Record<string, unknown>, key: string, path: string, length: number, min = 0, max = Number.MAX_SAFE_INTEGER): number[] {
  const v = obj[key];
  if (!Array.isArray(v) || v.length !== length) throw new InvalidArgumentError(`${path}.${key}`, `an array of length ${length}`, v);
  const out = new Array<number>(length);
  for (let i = 0; i < length; i++) {
    const x: unknown = v[i];
    if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) {
      throw new InvalidArgumentError(`${path}.${key}[${i}]`, `an integer in [${min}, ${max}]`, x);
    }
    out[i] = x;
  }
  return out;
}
