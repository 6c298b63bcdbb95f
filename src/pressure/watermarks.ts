/**
 * Watermarks with hysteresis: the rule that turns a reading into a level.
 *
 * A reading `v` enters `slow` when `v > slowAt` and `reject` when `v > rejectAt` (at once, from
 * any lower level). A level is held while the reading stays at or above its recovery mark:
 * `slowRecoverAt` (default `slowAt - hysteresis`) and `rejectRecoverAt` (default
 * `rejectAt - hysteresis`). In one formula, with levels ordered ok < slow < reject:
 *
 *     up(v)   = reject if v > rejectAt,         slow if v > slowAt,         else ok
 *     hold(v) = reject if v >= rejectRecoverAt, slow if v >= slowRecoverAt, else ok
 *     next    = max(up(v), min(current, hold(v)))
 *
 * So a reading inside a band [recoverAt, at] never changes the level: no flapping around a
 * threshold. Requires slowAt < rejectAt, slowRecoverAt <= slowAt, rejectRecoverAt <= rejectAt
 * and slowRecoverAt <= rejectRecoverAt (checked at construction).
 */
import { InvalidOptionError, optNumber } from '../core/index.js';
import type { PressureLevel } from './level.js';
import { levelRank } from './level.js';

export interface WatermarkOptions {
  /** Enter `slow` when a reading is above this. Finite, < `rejectAt`. @default per signal */
  readonly slowAt?: number;
  /** Enter `reject` when a reading is above this. Finite, > `slowAt`. @default per signal */
  readonly rejectAt?: number;
  /**
   * Width of the band below each watermark in which the level holds, in the signal's unit.
   * Finite, >= 0. @default per signal (0 for custom signals)
   */
  readonly hysteresis?: number;
  /** Leave `slow` only when a reading falls below this. Finite, < `slowAt`. @default slowAt - hysteresis */
  readonly slowRecoverAt?: number;
  /** Leave `reject` only when a reading falls below this. Finite, < `rejectAt`, >= the slow recovery mark. @default rejectAt - hysteresis */
  readonly rejectRecoverAt?: number;
  /** A level is held at least this long (ms) before it may fall; rising is always immediate. >= 0. @default 0 */
  readonly minDwellMs?: number;
}

/** The watermark option names, for the key lists of the signals that take them. */
export const WATERMARK_KEYS = { slowAt: true, rejectAt: true, hysteresis: true, slowRecoverAt: true, rejectRecoverAt: true, minDwellMs: true } as const;

/** Resolved, validated watermarks. Plain data. */
export interface Watermarks {
  readonly slowAt: number;
  readonly rejectAt: number;
  readonly slowRecoverAt: number;
  readonly rejectRecoverAt: number;
  readonly minDwellMs: number;
}

export interface WatermarkDefaults {
  readonly slowAt?: number;
  readonly rejectAt?: number;
  readonly hysteresis: number;
  readonly minDwellMs: number;
}

function finite(name: string, value: unknown, min = -Infinity): number {
  // One message for every failure ("a finite number", not optNumber's "a number >= -Infinity").
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) throw new InvalidOptionError(name, min === -Infinity ? 'a finite number' : `a finite number >= ${min}`, value);
  return value;
}

/** Validate watermark options once; `prefix` names the signal in error messages. */
export function resolveWatermarks(prefix: string, options: WatermarkOptions, defaults: WatermarkDefaults): Watermarks {
  const slowAt = finite(`${prefix}.slowAt`, options.slowAt ?? defaults.slowAt);
  const rejectAt = finite(`${prefix}.rejectAt`, options.rejectAt ?? defaults.rejectAt);
  if (!(rejectAt > slowAt)) throw new InvalidOptionError(`${prefix}.rejectAt`, `a number > slowAt (${slowAt})`, rejectAt);
  const hysteresis = finite(`${prefix}.hysteresis`, options.hysteresis ?? defaults.hysteresis, 0);
  const minDwellMs = optNumber(`${prefix}.minDwellMs`, options.minDwellMs ?? defaults.minDwellMs, 0);
  let slowRecoverAt = slowAt - hysteresis;
  if (options.slowRecoverAt !== undefined) {
    slowRecoverAt = finite(`${prefix}.slowRecoverAt`, options.slowRecoverAt);
    if (!(slowRecoverAt < slowAt)) throw new InvalidOptionError(`${prefix}.slowRecoverAt`, `a number < slowAt (${slowAt})`, slowRecoverAt);
  }
  let rejectRecoverAt = rejectAt - hysteresis;
  if (options.rejectRecoverAt !== undefined) {
    rejectRecoverAt = finite(`${prefix}.rejectRecoverAt`, options.rejectRecoverAt);
    if (!(rejectRecoverAt < rejectAt)) throw new InvalidOptionError(`${prefix}.rejectRecoverAt`, `a number < rejectAt (${rejectAt})`, rejectRecoverAt);
  }
  if (rejectRecoverAt < slowRecoverAt) {
    const which = options.rejectRecoverAt !== undefined ? 'rejectRecoverAt' : 'hysteresis';
    const got = options.rejectRecoverAt ?? hysteresis;
    throw new InvalidOptionError(`${prefix}.${which}`, `a reject recovery mark >= the slow recovery mark (${slowRecoverAt})`, got);
  }
  return { slowAt, rejectAt, slowRecoverAt, rejectRecoverAt, minDwellMs };
}

const BY_RANK: readonly PressureLevel[] = ['ok', 'slow', 'reject'];

/** The hysteresis rule (see the module comment), without dwell time. */
export function nextLevel(current: PressureLevel, value: number, wm: Watermarks): PressureLevel {
  const up = value > wm.rejectAt ? 2 : value > wm.slowAt ? 1 : 0;
  const hold = value >= wm.rejectRecoverAt ? 2 : value >= wm.slowRecoverAt ? 1 : 0;
  return BY_RANK[Math.max(up, Math.min(levelRank(current), hold))]!;
}

/**
 * A reading as a pressure in [0, 1]: 0 at or below `slowAt`, 1 at or above `rejectAt`, linear
 * between. The load shedder's probabilistic rules read it.
 */
export function pressureOf(value: number, wm: Watermarks): number {
  if (!(value > wm.slowAt)) return 0;
  if (value >= wm.rejectAt) return 1;
  return (value - wm.slowAt) / (wm.rejectAt - wm.slowAt);
}
