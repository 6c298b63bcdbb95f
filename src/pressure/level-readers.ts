/**
 * The pure functions `sluice/pressure` exports (the hysteresis rule, a reading's pressure, the
 * shed probability, level order, a priority's class), each checking its arguments: a level
 * that is not one, watermarks that are not watermarks, a NaN reading is an InvalidArgumentError
 * naming it — not a TypeError, not `undefined` or 0 in silence. The monitor and the shedder call
 * the unchecked functions in their own modules: what they pass was validated at construction.
 */
import { argNumber, InvalidArgumentError } from '../core/index.js';
import type { CriticalityClass } from './criticality.js';
import { classOfPriority as classOfValid, CRITICALITY_CLASSES, isCriticalityClass } from './criticality.js';
import type { PressureLevel } from './level.js';
import { levelRank as rankOfValid, PRESSURE_LEVELS, worseLevel as worseOfValid } from './level.js';
import type { ShedRamps } from './shed-policy.js';
import { resolveRamps, shedProbability as shedProbabilityOfValid } from './shed-policy.js';
import type { Watermarks } from './watermarks.js';
import { nextLevel as nextOfValid, pressureOf as pressureOfValid } from './watermarks.js';

const LEVELS = PRESSURE_LEVELS.map((l) => JSON.stringify(l)).join(', ');
const CLASSES = CRITICALITY_CLASSES.map((c) => JSON.stringify(c)).join(', ');

function argLevel(name: string, value: unknown): PressureLevel {
  if (typeof value !== 'string' || !(PRESSURE_LEVELS as readonly string[]).includes(value)) throw new InvalidArgumentError(name, `a pressure level (one of ${LEVELS})`, value);
  return value as PressureLevel;
}

function argFinite(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidArgumentError(name, 'a finite number', value);
  return value;
}

/**
 * Watermarks as a signal's `watermarks` are: finite marks with slowAt < rejectAt and each
 * recovery mark at or below its watermark and slowRecoverAt <= rejectRecoverAt. A hand-made
 * object out of that order would give levels the hysteresis rule does not define.
 */
function argWatermarks(name: string, wm: unknown): Watermarks {
  if (typeof wm !== 'object' || wm === null || Array.isArray(wm)) throw new InvalidArgumentError(name, 'watermarks (an object with slowAt, rejectAt, slowRecoverAt, rejectRecoverAt: a signal\'s watermarks)', wm);
  const w = wm as Record<string, unknown>;
  const slowAt = argFinite(`${name}.slowAt`, w['slowAt']);
  const rejectAt = argFinite(`${name}.rejectAt`, w['rejectAt']);
  if (!(rejectAt > slowAt)) throw new InvalidArgumentError(`${name}.rejectAt`, `a number > slowAt (${slowAt})`, rejectAt);
  const slowRecoverAt = argFinite(`${name}.slowRecoverAt`, w['slowRecoverAt']);
  if (slowRecoverAt > slowAt) throw new InvalidArgumentError(`${name}.slowRecoverAt`, `a number <= slowAt (${slowAt})`, slowRecoverAt);
  const rejectRecoverAt = argFinite(`${name}.rejectRecoverAt`, w['rejectRecoverAt']);
  if (rejectRecoverAt > rejectAt || rejectRecoverAt < slowRecoverAt) {
    throw new InvalidArgumentError(`${name}.rejectRecoverAt`, `a number in [slowRecoverAt (${slowRecoverAt}), rejectAt (${rejectAt})]`, rejectRecoverAt);
  }
  return wm as Watermarks;
}

/** A reading or a priority: any number but NaN (Infinity is above every watermark, and the top class). */
function argNotNaN(name: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value)) throw new InvalidArgumentError(name, 'a number (not NaN)', value);
  return value;
}
const reading = (value: unknown): number => argNotNaN('value', value);

/** 0 for `ok`, 1 for `slow`, 2 for `reject`. */
export function levelRank(level: PressureLevel): number {
  return rankOfValid(argLevel('level', level));
}

/** The more severe of two levels. */
export function worseLevel(a: PressureLevel, b: PressureLevel): PressureLevel {
  return worseOfValid(argLevel('a', a), argLevel('b', b));
}

/**
 * The hysteresis rule (see watermarks.ts), without dwell time: the level after `current` at a
 * reading. A NaN reading is refused: the rule would read it as below every mark and drop any
 * level to `ok` (the monitor skips a NaN reading instead).
 */
export function nextLevel(current: PressureLevel, value: number, wm: Watermarks): PressureLevel {
  return nextOfValid(argLevel('current', current), reading(value), argWatermarks('wm', wm));
}

/**
 * A reading as a pressure in [0, 1]: 0 at or below `slowAt`, 1 at or above `rejectAt`, linear
 * between. NaN reads 0, as before: no reading is no pressure (the monitor skips a NaN reading).
 */
export function pressureOf(value: number, wm: Watermarks): number {
  if (typeof value !== 'number') throw new InvalidArgumentError('value', 'a number', value);
  return pressureOfValid(value, argWatermarks('wm', wm));
}

/** The class of an admission context's priority: >= 1 critical-plus, >= 0 critical, >= -1 sheddable-plus, else sheddable. */
export function classOfPriority(priority: number): CriticalityClass {
  return classOfValid(argNotNaN('priority', priority));
}

/** Probability in [0, 1] that work of class `cls` is shed at `level` and `pressure` (see shed-policy.ts). */
export function shedProbability(cls: CriticalityClass, level: PressureLevel, pressure: number, ramps: ShedRamps): number {
  if (!isCriticalityClass(cls)) throw new InvalidArgumentError('cls', `a criticality class (one of ${CLASSES})`, cls);
  const lvl = argLevel('level', level);
  const p = argNumber('pressure', pressure, 0, 1);
  // Both ramps, as a shedder holds them; resolveRamps checks each (ramps.sheddable.from: …) and their order.
  if (typeof ramps !== 'object' || ramps === null || typeof ramps.sheddable !== 'object' || typeof ramps['sheddable-plus'] !== 'object') {
    throw new InvalidArgumentError('ramps', 'shed ramps (an object with sheddable and sheddable-plus, each { from, to })', ramps);
  }
  return shedProbabilityOfValid(cls, lvl, p, resolveRamps(ramps));
}
