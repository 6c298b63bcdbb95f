/** Argument checks shared by the operators: the library's option-error template. */
import { InvalidOptionError } from '../../core/errors.js';

export function checkFn(operator: string, fn: unknown): void {
  if (typeof fn !== 'function') throw new InvalidOptionError(`${operator}(fn)`, 'a function', fn);
}
