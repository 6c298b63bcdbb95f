/**
 * Unknown option keys. A misspelled option (`maxQeue`) or another library's name for it
 * (`windowMs`) would otherwise be ignored and its default used in silence; every public
 * constructor refuses it with the option-error template, naming the nearest known key.
 */
import { InvalidArgumentError, InvalidOptionError } from './errors.js';

/** Every key of every member of a union (`keyof` of a union keeps only the shared keys). */
type AllKeys<T> = T extends unknown ? keyof T : never;

/**
 * The option names of `T`, written once as the keys of an object: the type checker holds the
 * list to `T` exactly, so an option added to the interface and not here is a compile error.
 */
export type OptionKeyMap<T> = { readonly [K in AllKeys<T> & string]-?: true };

/** The names listed by an {@link OptionKeyMap}. */
export function optionKeys<T>(map: OptionKeyMap<T>): readonly string[] {
  return Object.freeze(Object.keys(map));
}

/**
 * Throws InvalidOptionError for the first key of `options` that is not in `known`:
 * `maxQeue: expected one of the ConcurrencyGate options (did you mean "maxQueue"?), received 10`.
 * Without a near key, the message lists the known ones. A non-object is left to the caller.
 */
export function optKnownKeys(owner: string, options: unknown, known: readonly string[], prefix = ''): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    // Top level: a JavaScript caller passed null, a number or an array for the options object.
    if (prefix === '') argOptions(owner, options);
    return;
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw unknownKey(owner, options, key, known, prefix);
  }
}

/**
 * The options argument of a public constructor, factory or call: an object (not null, not an
 * array), or undefined when `optional`. Anything else is the caller's argument gone wrong, as
 * `admit(3)` is, so an InvalidArgumentError naming `options` — one rule for every entry point:
 * `options: expected an object of Channel options, received 5`.
 */
export function argOptions(owner: string, options: unknown, optional = true): void {
  if (options === undefined ? optional : typeof options === 'object' && options !== null && !Array.isArray(options)) return;
  throw new InvalidArgumentError('options', `an object of ${owner} options`, options);
}

/**
 * {@link optKnownKeys} for the options object of a call on a hot path (a gate's admission
 * context, a put): a `for...in` over its keys allocates nothing, and the error is built only
 * for an unknown key. Inherited enumerable keys count, as a read of `options.signal` finds them.
 */
export function callKnownKeys(call: string, options: object, known: readonly string[]): void {
  for (const key in options) {
    if (!known.includes(key)) throw unknownKey(call, options, key, known, '');
  }
}

/** Whether every key of `options` is in `known` (as {@link callKnownKeys} reads them): to name the call only when it is not. */
export function onlyKnownKeys(options: object, known: readonly string[]): boolean {
  for (const key in options) {
    if (!known.includes(key)) return false;
  }
  return true;
}

/** The option-error of an unknown key: the nearest known key, or the list of them. */
function unknownKey(owner: string, options: object, key: string, known: readonly string[], prefix: string): InvalidOptionError {
  const near = nearestKey(key, known);
  const hint = near === undefined ? `: ${known.join(', ')}` : ` (did you mean ${JSON.stringify(near)}?)`;
  return new InvalidOptionError(`${prefix}${key}`, `one of the ${owner} options${hint}`, (options as Record<string, unknown>)[key]);
}

/**
 * The known key closest to `key` by edit distance (case-insensitive, a transposition counts
 * one), when it is close enough to be a slip: at most 1 edit for keys up to 4 characters,
 * else at most a third of the length; a key of 3 or more characters that a known key starts
 * with (`per` for `perMs`) counts as one edit. Ties go to the first in `known`.
 */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  const a = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = a.length <= 4 ? 1 : Math.max(2, Math.floor(a.length / 3));
  for (const candidate of known) {
    const c = candidate.toLowerCase();
    const d = a.length >= 3 && c.startsWith(a) ? 1 : editDistance(a, c);
    if (d < bestDistance || (d === bestDistance && best === undefined)) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) rows.push([i]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}
