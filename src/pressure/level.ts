/**
 * The pressure level every signal and the monitor report: `ok` (admit everything), `slow`
 * (tell producers to slow down, shed the sheddable), `reject` (refuse all but the top class).
 * Ordered: the combined level of several signals is the worst of theirs.
 */
import { deepFreeze } from '../core/deep-freeze.js';

export type PressureLevel = 'ok' | 'slow' | 'reject';

/** The levels in increasing order of severity. */
export const PRESSURE_LEVELS: readonly PressureLevel[] = deepFreeze(['ok', 'slow', 'reject']);

const RANK: Readonly<Record<PressureLevel, number>> = { ok: 0, slow: 1, reject: 2 };

/** 0 for `ok`, 1 for `slow`, 2 for `reject`. */
export function levelRank(level: PressureLevel): number {
  return RANK[level];
}

/** The more severe of two levels. */
export function worseLevel(a: PressureLevel, b: PressureLevel): PressureLevel {
  return RANK[a] >= RANK[b] ? a : b;
}
