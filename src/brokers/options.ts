/** Option checks the broker adapters share (the template is core's). */
import { InvalidOptionError } from '../core/index.js';

export function nonEmpty(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidOptionError(name, 'a non-empty string', value);
  return value;
}
