/**
 * Timers for waiters' deadlines across a stall of the event loop. A timer that fires late — the
 * loop was stalled past its due time (a long synchronous run, a GC pause, a busy process) — runs
 * its callback from `setImmediate`, after the loop's poll phase: Node runs expired timers before
 * it reads the sockets, so the releases that came during the stall (an upstream's answer waiting
 * in its socket, a Redis reply, a consumer's take) serve the waiters first, and only those whose
 * slots were not freed expire. Expired at once, every waiter past its deadline was refused
 * queue_timeout, the process's own lateness taken for the slots'. A timer on time runs at once;
 * a virtual clock fires on time: no deferral. Clearing a timer also cancels its deferred run, so
 * a waiter object reused after it was served is never expired by its old timer.
 */
import type { Clock, TimerHandle } from './clock.js';

/** A timer this much past its due time fired late (the loop was stalled), ms: Node's timers fire within a millisecond or two of it otherwise. */
export const LATE_MS = 2;

interface StallAwareTimer {
  timer: TimerHandle | undefined;
  immediate: ReturnType<typeof setImmediate> | undefined;
}

/** `clock`, with its timers deferred to `setImmediate` when they fire more than {@link LATE_MS} late. */
export function stallAware(clock: Clock): Clock {
  return {
    now: () => clock.now(),
    setTimer(fn: () => void, ms: number): TimerHandle {
      const due = clock.now() + Math.max(0, ms);
      const h: StallAwareTimer = { timer: undefined, immediate: undefined };
      h.timer = clock.setTimer(() => {
        h.timer = undefined;
        if (clock.now() - due > LATE_MS) {
          h.immediate = setImmediate(() => {
            h.immediate = undefined;
            fn();
          });
        } else fn();
      }, ms);
      return h;
    },
    clearTimer(handle: TimerHandle): void {
      const h = handle as StallAwareTimer;
      if (h.timer !== undefined) clock.clearTimer(h.timer);
      if (h.immediate !== undefined) clearImmediate(h.immediate);
      h.timer = h.immediate = undefined;
    },
    ...(clock.timerSlackMs === undefined ? {} : { timerSlackMs: clock.timerSlackMs }),
  };
}
