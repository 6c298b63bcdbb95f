/** Option checks the broker adapters share (the template is core's). */
import { InvalidOptionError } from '../core/index.js';

export function nonEmpty(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidOptionError(name, 'a non-empty string', value);
  return value;
}

/** A non-empty list of "host:port" strings. */
export function hostList(name: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && v.length > 0)) {
    throw new InvalidOptionError(name, 'a non-empty array of "host:port" strings', value);
  }
  return [...(value as string[])];
}

/** The longest delay a Node timer keeps (2^31 − 1 ms, ~24.8 days): past it, setTimeout fires after 1 ms. */
export const TIMER_MAX_MS = 2 ** 31 - 1;

/** An options object (a record), or undefined. */
export function optRecord(name: string, value: unknown, expected = 'an object'): Readonly<Record<string, unknown>> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidOptionError(name, expected, value);
  return value as Record<string, unknown>;
}

export function optFunction(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') throw new InvalidOptionError(name, 'a function', value);
}

export function optBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidOptionError(name, 'a boolean', value);
  return value;
}

/** A non-empty array of non-empty strings. */
export function nonEmptyList(name: string, value: unknown, expected = 'a non-empty array of non-empty strings'): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && v.length > 0)) {
    throw new InvalidOptionError(name, expected, value);
  }
  return [...(value as string[])];
}
