/** The [minLimit, maxLimit] range and initial limit every algorithm shares, validated once. */
import { argNumber, InvalidArgumentError, InvalidOptionError, optInt } from '../core/index.js';

export interface BoundsOptions {
  /** Limit before the first sample. Integer in [minLimit, maxLimit]. */
  readonly initialLimit?: number;
  /** The limit never goes below this. Finite integer >= 1. */
  readonly minLimit?: number;
  /** The limit never goes above this. Integer >= minLimit. */
  readonly maxLimit?: number;
}

export interface Bounds {
  readonly initialLimit: number;
  readonly minLimit: number;
  readonly maxLimit: number;
}

/**
 * Validate the bounds. A default initial limit outside explicit bounds is clamped into them;
 * an explicit one outside is a contradiction and throws.
 */
export function readBounds(options: BoundsOptions, defaults: Bounds): Bounds {
  // An explicit maxLimit is checked first: the default minLimit is derived from it, and a bad
  // one must be named as itself, not as "minLimit: ... received NaN".
  if (options.maxLimit !== undefined) optInt('maxLimit', options.maxLimit, 1);
  const minLimit = optInt('minLimit', options.minLimit ?? Math.min(defaults.minLimit, options.maxLimit ?? Infinity), 1, Number.MAX_VALUE);
  const maxLimit = optInt('maxLimit', options.maxLimit ?? Math.max(defaults.maxLimit, minLimit), 1);
  if (maxLimit < minLimit) throw new InvalidOptionError('maxLimit', `an integer >= minLimit (${minLimit})`, maxLimit);
  const initialLimit =
    options.initialLimit === undefined
      ? clamp(defaults.initialLimit, minLimit, maxLimit)
      : optInt('initialLimit', options.initialLimit, minLimit, maxLimit);
  return { initialLimit, minLimit, maxLimit };
}

export function clamp(value: number, min: number, max: number): number {
  return value < min ? min : value > max ? max : value;
}

/** A restored state field: an integer in [min, max] (state comes from a store, so it is an argument). */
export function argInt(name: string, value: unknown, min: number, max: number): number {
  const n = argNumber(name, value, min, max);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(name, `an integer in [${min}, ${max}]`, value);
  return n;
}
