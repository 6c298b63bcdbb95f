/**
 * Criticality classes, after Google's RPC criticality: what may be dropped first when a
 * process is overloaded. From the top: `critical-plus` (never shed by pressure; has reserved
 * capacity), `critical` (shed only at `reject`; the default for unmarked work), then
 * `sheddable-plus` and `sheddable` (shed from `slow`, the latter first).
 *
 * Mapping from an admission context's `priority` (higher is more important, 0 by default):
 *
 *     priority >= 1        critical-plus
 *     0 <= priority < 1    critical        (unmarked work)
 *     -1 <= priority < 0   sheddable-plus
 *     priority < -1        sheddable
 *
 * {@link CLASS_PRIORITY} gives a priority for each class, so callers can write
 * `{ priority: CLASS_PRIORITY.sheddable }`.
 */
import { deepFreeze } from '../core/deep-freeze.js';

export type CriticalityClass = 'critical-plus' | 'critical' | 'sheddable-plus' | 'sheddable';

/** The classes, most important first. */
export const CRITICALITY_CLASSES: readonly CriticalityClass[] = deepFreeze(['critical-plus', 'critical', 'sheddable-plus', 'sheddable']);

/** A priority that maps to each class. */
export const CLASS_PRIORITY: Readonly<Record<CriticalityClass, number>> = deepFreeze({ 'critical-plus': 1, critical: 0, 'sheddable-plus': -1, sheddable: -2 });

/** The class of an admission context's priority (see the module comment). */
export function classOfPriority(priority: number): CriticalityClass {
  if (priority >= 1) return 'critical-plus';
  if (priority >= 0) return 'critical';
  if (priority >= -1) return 'sheddable-plus';
  return 'sheddable';
}

export function isCriticalityClass(value: unknown): value is CriticalityClass {
  return typeof value === 'string' && (CRITICALITY_CLASSES as readonly string[]).includes(value);
}
