/** A virtual clock whose reading can be moved by `offset`, either way: a clock set back or jumping ahead. */
import { VirtualClock } from '../src/core/index.js';
import type { Clock, TimerHandle } from '../src/core/index.js';

export class SettableClock implements Clock {
  readonly base: VirtualClock;
  offset = 0;
  constructor(startMs = 0) {
    this.base = new VirtualClock(startMs);
  }
  now(): number {
    return this.base.now() + this.offset;
  }
  setTimer(fn: () => void, ms: number): TimerHandle {
    return this.base.setTimer(fn, ms);
  }
  clearTimer(handle: TimerHandle): void {
    this.base.clearTimer(handle);
  }
}
