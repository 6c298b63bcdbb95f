/**
 * Who is shed at which pressure: a pure function of the class, the combined level and the
 * pressure, kept apart from the gate that enforces it.
 *
 *     level ok:      nobody
 *     level slow:    sheddable      with probability ramp_sheddable(p)       (default: always)
 *                    sheddable-plus with probability ramp_sheddable-plus(p)  (default: p)
 *                    critical, critical-plus: never
 *     level reject:  everyone but critical-plus
 *
 * where p in [0, 1] is the pressure (0 at the slow watermark, 1 at the reject watermark) and
 * ramp(p) = clamp((p - from) / (to - from), 0, 1), a step at `from` when from = to. Ramps must
 * keep the order: a lower class is shed at least as often as a higher one at every pressure
 * (sheddable.from <= sheddable-plus.from and sheddable.to <= sheddable-plus.to).
 */
import { InvalidOptionError, optKnownKeys, optNumber, optRecord } from '../core/index.js';
import type { CriticalityClass } from './criticality.js';
import { PRESSURE_DEFAULTS } from './defaults.js';
import type { PressureLevel } from './level.js';

/** Shed probability rising linearly from 0 at pressure `from` to 1 at pressure `to`. */
export interface ShedRamp {
  /** In [0, 1]. */
  readonly from: number;
  /** In [from, 1]. */
  readonly to: number;
}

/** The classes shed with a probability at level `slow`. */
export type RampedClass = 'sheddable' | 'sheddable-plus';

export type ShedRamps = Readonly<Record<RampedClass, ShedRamp>>;

const RAMP_KEYS: readonly string[] = ['from', 'to'];
const RAMPED_CLASSES: readonly RampedClass[] = ['sheddable', 'sheddable-plus'];

function ramp(prefix: string, r: ShedRamp): ShedRamp {
  if (typeof r !== 'object' || r === null) throw new InvalidOptionError(prefix, 'an object { from, to }', r);
  optKnownKeys('ramp', r, RAMP_KEYS, `${prefix}.`);
  const from = optNumber(`${prefix}.from`, r.from, 0, 1);
  const to = optNumber(`${prefix}.to`, r.to, 0, 1);
  if (to < from) throw new InvalidOptionError(`${prefix}.to`, `a number in [from (${from}), 1]`, to);
  return { from, to };
}

/**
 * Validate ramps once: each in range, and the lower class shed at least as much as the higher.
 * Two ramps given out of order are an error; a ramp left out takes its default moved just
 * enough to keep the order with the one given.
 */
export function resolveRamps(options: Partial<ShedRamps> | undefined, prefix = 'ramps'): ShedRamps {
  const d = PRESSURE_DEFAULTS.shedder.ramps;
  // `ramps: 1` or `{ shedable: … }` was taken in silence, the default ramps kept.
  optRecord(prefix, options, 'an object of ramps by class ({ sheddable, sheddable-plus }, each { from, to })');
  optKnownKeys('ramps', options, RAMPED_CLASSES, `${prefix}.`);
  const givenLow = options?.sheddable === undefined ? undefined : ramp(`${prefix}.sheddable`, options.sheddable);
  const givenHigh = options?.['sheddable-plus'] === undefined ? undefined : ramp(`${prefix}.sheddable-plus`, options['sheddable-plus']);
  const low = givenLow ?? (givenHigh === undefined ? d.sheddable : { from: Math.min(d.sheddable.from, givenHigh.from), to: Math.min(d.sheddable.to, givenHigh.to) });
  const high = givenHigh ?? { from: Math.max(d['sheddable-plus'].from, low.from), to: Math.max(d['sheddable-plus'].to, low.to) };
  if (low.from > high.from) throw new InvalidOptionError(`${prefix}.sheddable.from`, `a number <= sheddable-plus.from (${high.from}): lower classes are shed first`, low.from);
  if (low.to > high.to) throw new InvalidOptionError(`${prefix}.sheddable.to`, `a number <= sheddable-plus.to (${high.to}): lower classes are shed first`, low.to);
  return { sheddable: low, 'sheddable-plus': high };
}

function rampAt(r: ShedRamp, pressure: number): number {
  if (r.to === r.from) return pressure >= r.from ? 1 : 0;
  const x = (pressure - r.from) / (r.to - r.from);
  return x <= 0 ? 0 : x >= 1 ? 1 : x;
}

/** Probability in [0, 1] that work of class `cls` is shed (see the module comment). */
export function shedProbability(cls: CriticalityClass, level: PressureLevel, pressure: number, ramps: ShedRamps): number {
  if (level === 'ok' || cls === 'critical-plus') return 0;
  if (level === 'reject') return 1;
  if (cls === 'critical') return 0;
  return rampAt(ramps[cls], pressure);
}
