/**
 * Capacity by class: how the load shedder keeps the top class from being starved.
 *
 * With a finite `limit` of in-flight units, a class is admitted only while the total in
 * flight (all classes) after admission stays within its slots:
 *
 *     slots(critical-plus) = limit
 *     slots(c)             = clamp(floor(limit * ceiling(c)), 1, limit - 1)   for the other classes
 *
 * Every other class is admitted only when the total is within slots(critical) <= limit - 1,
 * so the units they hold never exceed slots(critical): the top class always has
 * reserve = limit - slots(critical) >= 1 units that nothing else can take, however hard the
 * others push. And as the process fills, the lowest class is refused first.
 */
import { InvalidOptionError, optInt, optKnownKeys, optNumber, optRecord } from '../core/index.js';
import type { CriticalityClass } from './criticality.js';
import { PRESSURE_DEFAULTS } from './defaults.js';

/** The classes with a ceiling; critical-plus may always fill the whole limit. */
export type CeilingClass = 'critical' | 'sheddable-plus' | 'sheddable';

export type ClassCeilings = Readonly<Record<CeilingClass, number>>;

const ORDER: readonly CeilingClass[] = ['critical', 'sheddable-plus', 'sheddable'];

/**
 * Validate the limit (integer >= 2, or Infinity) and the ceilings (in (0, 1], non-increasing
 * down the classes). Ceilings given out of order are an error; a ceiling left out takes its
 * default moved just enough to keep the order with the ones given.
 */
export function resolveSlots(limitOption: number | undefined, ceilings: Partial<ClassCeilings> | undefined): Readonly<Record<CriticalityClass, number>> {
  const d = PRESSURE_DEFAULTS.shedder;
  const limit = optInt('limit', limitOption ?? d.limit, 2);
  // An object of the three classes: `ceilings: 0.8` or `{ critcal: 0.5 }` was taken in silence, every default kept.
  optRecord('ceilings', ceilings, 'an object of ceilings by class ({ critical, sheddable-plus, sheddable })');
  optKnownKeys('ceilings', ceilings, ORDER, 'ceilings.');
  const given = ORDER.map((c) => {
    const v = ceilings?.[c];
    return v === undefined ? undefined : optNumber(`ceilings.${c}`, v, Number.MIN_VALUE, 1);
  });
  for (let i = 1; i < ORDER.length; i++) {
    const v = given[i];
    if (v === undefined) continue;
    for (let j = i - 1; j >= 0; j--) {
      const above = given[j];
      if (above !== undefined && v > above) {
        throw new InvalidOptionError(`ceilings.${ORDER[i]!}`, `a number <= ceilings.${ORDER[j]!} (${above}): lower classes are refused first`, v);
      }
    }
  }
  const c = {} as Record<CeilingClass, number>;
  for (const [i, cls] of ORDER.entries()) {
    const v = given[i];
    if (v !== undefined) {
      c[cls] = v;
      continue;
    }
    const hi = Math.min(1, ...given.slice(0, i).filter((x) => x !== undefined));
    const lo = Math.max(0, ...given.slice(i + 1).filter((x) => x !== undefined));
    c[cls] = Math.min(hi, Math.max(lo, d.ceilings[cls]));
  }
  const slots = (ceiling: number): number => (limit === Infinity ? Infinity : Math.min(limit - 1, Math.max(1, Math.floor(limit * ceiling))));
  return { 'critical-plus': limit, critical: slots(c.critical), 'sheddable-plus': slots(c['sheddable-plus']), sheddable: slots(c.sheddable) };
}
