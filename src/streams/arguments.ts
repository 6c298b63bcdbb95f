/**
 * Arguments of the streams layer's factories, operators and sinks: one that is not what the
 * call takes (`fromArray(null)`, `toArray(undefined)`) is the caller's argument gone wrong, an
 * InvalidArgumentError naming it, as everywhere else in sluice. The TypeErrors of the Reactive
 * Streams rules (§1.9 subscribe, §2.13 signals without their argument) stay TypeErrors: the
 * specification names them (rules.ts).
 */
import { InvalidArgumentError } from '../core/errors.js';
import type { Publisher } from './types.js';

/** `items: expected an array for fromArray(), received null`. */
export function badArgument(call: string, argument: string, expected: string, received: unknown): InvalidArgumentError {
  return new InvalidArgumentError(argument, `${expected} for ${call}()`, received);
}

/** A publisher `call` was given, or that a function of its returned, as `argument` (`source`, `fn(item)`, `publishers[2]`). */
export function argPublisher(call: string, source: unknown, argument = 'source'): void {
  if (typeof (source as Partial<Publisher<unknown>> | null)?.subscribe !== 'function') throw badArgument(call, argument, 'a Publisher (an object with subscribe())', source);
}
