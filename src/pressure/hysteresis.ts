/**
 * The per-signal level state: the watermark rule plus the minimum dwell time. Rising is
 * immediate (overload must be met at once); falling waits until the current level has been
 * held for `minDwellMs`, then follows the reading of that moment.
 */
import type { PressureLevel } from './level.js';
import { levelRank } from './level.js';
import type { Watermarks } from './watermarks.js';
import { nextLevel } from './watermarks.js';

export class Hysteresis {
  #level: PressureLevel = 'ok';
  #since: number;

  constructor(
    readonly watermarks: Watermarks,
    now: number,
  ) {
    this.#since = now;
  }

  get level(): PressureLevel {
    return this.#level;
  }

  /** Clock time at which the current level was entered. */
  get since(): number {
    return this.#since;
  }

  /** Ms until the current level may fall, given the dwell time (0 when it may fall now). */
  dwellLeft(now: number): number {
    return this.#level === 'ok' ? 0 : Math.max(0, this.#since + this.watermarks.minDwellMs - now);
  }

  /** Feed a reading; returns the previous level when the level changed, else undefined. */
  update(value: number, now: number): PressureLevel | undefined {
    const from = this.#level;
    const to = nextLevel(from, value, this.watermarks);
    if (to === from) return undefined;
    if (levelRank(to) < levelRank(from) && now - this.#since < this.watermarks.minDwellMs) return undefined;
    this.#level = to;
    this.#since = now;
    return from;
  }
}
