/** The monitor's state as plain data: each signal's value and level, and the combined level. */
import type { PressureLevel } from './level.js';
import type { SignalSnapshot } from './signal.js';

export interface PressureSnapshot {
  /** The monitor's name. */
  readonly name: string;
  /** The worst level of the signals. */
  readonly level: PressureLevel;
  /** Clock time at which `level` was entered. */
  readonly since: number;
  /** The highest signal pressure in [0, 1] at the last sample (0 at or below every `slowAt`). */
  readonly pressure: number;
  /** Clock time of the last sample; undefined before the first. */
  readonly sampledAt: number | undefined;
  /** Whether the sampling timer runs. */
  readonly running: boolean;
  readonly signals: readonly SignalSnapshot[];
}
