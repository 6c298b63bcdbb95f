/**
 * Freezing the constants sluice exports (defaults, lists of names, the config schema): sluice
 * reads them itself, so one user's `REJECTION_REASONS.push(...)` or `CONCURRENCY_DEFAULTS.maxQueue = 10`
 * would change its behaviour for every user in the process.
 */

/**
 * Freezes `value` and every plain object and array under it, and returns it. A class instance
 * (a diagnostics Channel, a Map) is left as it is: freezing one would break its own methods.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return value;
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v);
  return value;
}
