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
