/**
 * Option and argument validation: one message template naming the option, the expected
 * range and the value received. Used once at construction (options) or per call (contexts).
 */
import { systemClock, type Clock } from './clock.js';
import { InvalidArgumentError, InvalidOptionError } from './errors.js';

type Fail = new (name: string, expected: string, received: unknown) => Error;

function check(fail: Fail, name: string, value: unknown, min: number, max: number, integer: boolean): number {
  if (typeof value !== 'number' || Number.isNaN(value) || (integer && !Number.isInteger(value) && Number.isFinite(value)) || value < min || value > max) {
    // Number.MIN_VALUE as the lower bound means "positive", Number.MAX_VALUE as the upper one
    // "finite": say so, not ">= 5e-324" or "<= 1.7976931348623157e+308".
    const positive = min === Number.MIN_VALUE;
    const finite = max === Number.MAX_VALUE;
    const kind = finite ? `a finite ${integer ? 'integer' : 'number'}` : integer ? 'an integer' : 'a number';
    const low = positive ? '> 0' : `>= ${min}`;
    const range = max === Infinity || finite ? low : positive ? `in (0, ${max}]` : `in [${min}, ${max}]`;
    throw new fail(name, `${kind} ${range}`, value);
  }
  return value;
}

/** A numeric option in [min, max]; `Infinity` passes when max is Infinity. */
export function optNumber(name: string, value: unknown, min: number, max = Infinity): number {
  return check(InvalidOptionError, name, value, min, max, false);
}

/** An integer option in [min, max]; `Infinity` passes when max is Infinity. */
export function optInt(name: string, value: unknown, min: number, max = Infinity): number {
  return check(InvalidOptionError, name, value, min, max, true);
}

export function optOneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidOptionError(name, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, value);
  }
  return value as T;
}

export { TIMER_MAX_MS } from './clock.js';

/** An options object (a record), or undefined. */
export function optRecord(name: string, value: unknown, expected = 'an object'): Readonly<Record<string, unknown>> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidOptionError(name, expected, value);
  return value as Record<string, unknown>;
}

/** A function option, or undefined. */
export function optFunction(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') throw new InvalidOptionError(name, 'a function', value);
}

/** A boolean option; `fallback` when undefined. */
export function optBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidOptionError(name, 'a boolean', value);
  return value;
}

export function argNumber(name: string, value: unknown, min: number, max = Infinity): number {
  return check(InvalidArgumentError, name, value, min, max, false);
}

/** An integer argument in [min, max]; `Infinity` passes when max is Infinity. */
export function argInt(name: string, value: unknown, min: number, max = Infinity): number {
  return check(InvalidArgumentError, name, value, min, max, true);
}

/** A `name` option: a non-empty string; `fallback` when undefined or null. */
export function optName(value: unknown, fallback: string, option = 'name'): string {
  const name = value ?? fallback;
  if (typeof name !== 'string' || name.length === 0) throw new InvalidOptionError(option, 'a non-empty string', value);
  return name;
}

/**
 * A `clock` option: an object with now, setTimer and clearTimer (only now, `nowOnly`, for a
 * reader that sets no timer); `fallback` when undefined or null. A given clock's now() is read
 * once here: one that answers NaN, a string or a Date would otherwise turn every deadline and
 * rate into NaN (a gate that never refills, a wait that never ends), far from its cause.
 */
export function optClock(value: unknown, fallback: Clock = systemClock, option = 'clock', nowOnly = false): Clock {
  const clock = (value ?? fallback) as Partial<Clock> | null;
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function' || (!nowOnly && (typeof clock.setTimer !== 'function' || typeof clock.clearTimer !== 'function'))) {
    throw new InvalidOptionError(option, nowOnly ? 'a Clock (an object with now())' : 'a Clock (now, setTimer, clearTimer)', value);
  }
  if (clock !== fallback) {
    const reading: unknown = clock.now();
    if (typeof reading !== 'number' || !Number.isFinite(reading)) {
      const shown = typeof reading === 'string' ? JSON.stringify(reading) : typeof reading === 'object' && reading !== null ? 'an object' : String(reading);
      throw new InvalidOptionError(option, 'a Clock whose now() reads a finite number of ms', value, `a Clock whose now() read ${shown}`);
    }
  }
  return clock as Clock;
}

/**
 * Builds something from a nested options object and names an option error it throws by its full
 * path: HttpAdmission's `shed` options go to a LoadShedder, whose `limit` is the caller's
 * `shed.limit`. The message keeps its words (a value shown as a description stays so).
 */
export function underOption<T>(prefix: string, build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (!(err instanceof InvalidOptionError)) throw err;
    // The message is `${option}: expected ${expected}, received ${shown}`: keep `shown` as it was written.
    const shown = err.message.slice(`${err.option}: expected ${err.expected}, received `.length);
    throw new InvalidOptionError(`${prefix}${err.option}`, err.expected, err.received, shown);
  }
}
