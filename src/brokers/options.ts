/** Option checks the broker adapters share (the template is core's). */
import { InvalidOptionError } from '../core/index.js';

export function nonEmpty(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidOptionError(name, 'a non-empty string', value);
  return value;
}

/** A non-empty list of "host:port" strings. */
export function hostList(name: string, value: unknown): string[] {
  return nonEmptyList(name, value, 'a non-empty array of "host:port" strings');
}

/** A non-empty array of non-empty strings. */
export function nonEmptyList(name: string, value: unknown, expected = 'a non-empty array of non-empty strings'): string[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && v.length > 0)) {
    throw new InvalidOptionError(name, expected, value);
  }
  return [...(value as string[])];
}

/** NATS `servers`: one non-empty string or a non-empty array of them; `fallback` when undefined. */
export function natsServers(value: unknown, fallback: string): string | string[] {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && value !== '') return value;
  return nonEmptyList('servers', value, 'a non-empty string or a non-empty array of non-empty strings');
}
