/**
 * Time, injected. Every sluice primitive takes a {@link Clock}; the default is the real
 * monotonic clock, tests and the simulator use {@link VirtualClock} so that minutes of
 * overload run in milliseconds and give the same answer every time.
 */
import { performance } from 'node:perf_hooks';
import { IndexedHeap } from './indexed-heap.js';
import { deepFreeze } from './deep-freeze.js';

/** The longest delay a Node timer holds (2^31 - 1 ms, about 24.8 days); a longer one fires after 1 ms. */
export const TIMER_MAX_MS = 2 ** 31 - 1;

/** An opaque handle for a timer created by a {@link Clock}. */
export type TimerHandle = { readonly __timer: unique symbol } | object;

export interface Clock {
  /** Monotonic milliseconds. Only differences are meaningful. */
  now(): number;
  /** Run `fn` once after `ms` milliseconds (clamped to >= 0), however long: the system clock waits past a Node timer's 2^31 - 1 ms in steps. */
  setTimer(fn: () => void, ms: number): TimerHandle;
  /** Cancel a timer; cancelling twice or after it fired is a no-op. */
  clearTimer(handle: TimerHandle): void;
  /**
   * How much earlier than `now()` says a timer of this clock (or the platform's, with which
   * callers sleep) may fire, ms. A gate that promises "wait `retryAfterMs`, then succeed"
   * adds it to the figure. @default 0
   */
  readonly timerSlackMs?: number;
}

/**
 * The real clock: `performance.now()` and Node timers. A Node timer counts from libuv's
 * loop time in whole milliseconds and truncates a fractional delay, so it fires up to
 * about 2 ms earlier than `performance.now()` says the delay ends: `timerSlackMs`.
 */
export const systemClock: Clock = deepFreeze({
  now: () => performance.now(),
  setTimer: (fn, ms) => (ms > TIMER_MAX_MS ? new LongTimer(fn, ms) : setTimeout(fn, Math.max(0, ms))),
  clearTimer: (handle) => (handle instanceof LongTimer ? handle.clear() : clearTimeout(handle as ReturnType<typeof setTimeout>)),
  timerSlackMs: 2,
});

/**
 * A delay past what a Node timer holds (TIMER_MAX_MS, about 24.8 days: a longer one fires after
 * 1 ms), waited in steps: a gate's `maxWaitMs` of 2^31 refused its waiters after 1 ms, and a
 * bucket of 1 token a month re-armed its waiter's timer every millisecond (hostile-13).
 * `unref`/`ref` (pressure-monitor.ts calls `unref`) hold for every step.
 */
class LongTimer {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #refed = true;
  /** What is left to wait after the step in force. */
  #left: number;

  constructor(
    readonly fn: () => void,
    ms: number,
  ) {
    this.#left = ms;
    this.#step();
  }

  readonly #step = (): void => {
    const ms = Math.min(this.#left, TIMER_MAX_MS);
    this.#left -= ms;
    this.#timer = setTimeout(this.#left > 0 ? this.#step : this.fn, ms);
    if (!this.#refed) this.#timer.unref();
  };

  clear(): void {
    clearTimeout(this.#timer);
  }

  unref(): this {
    this.#refed = false;
    this.#timer?.unref();
    return this;
  }

  ref(): this {
    this.#refed = true;
    this.#timer?.ref();
    return this;
  }
}

interface VirtualTimer {
  at: number;
  seq: number;
  fn: (() => void) | undefined;
  index: number;
}

/**
 * A clock that only moves when told to. Timers fire in (time, creation) order, each with
 * `now()` equal to its due time, so a timer set by a firing timer runs in the same advance
 * when it falls inside the window.
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #heap = new IndexedHeap<VirtualTimer>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq));

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const t: VirtualTimer = { at: this.#now + Math.max(0, Number.isFinite(ms) ? ms : 0), seq: this.#seq++, fn, index: -1 };
    this.#heap.push(t);
    return t;
  }

  clearTimer(handle: TimerHandle): void {
    const t = handle as VirtualTimer;
    if (t.fn === undefined) return;
    t.fn = undefined;
    this.#heap.remove(t);
  }

  /** Number of timers not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#heap.size;
  }

  /** Due time of the next timer, or undefined. */
  nextTimerAt(): number | undefined {
    return this.#heap.peek()?.at;
  }

  /** Move time forward by `ms`, firing every timer due on the way, synchronously. */
  advance(ms: number): void {
    this.advanceTo(this.#now + ms);
  }

  /** Move time forward to `target` (never backwards), firing due timers synchronously. */
  advanceTo(target: number): void {
    for (;;) {
      const head = this.#heap.peek();
      if (head === undefined || head.at > target) break;
      this.#heap.remove(head);
      if (head.at > this.#now) this.#now = head.at;
      const fn = head.fn;
      head.fn = undefined;
      fn?.();
    }
    if (target > this.#now) this.#now = target;
  }

  /**
   * Like {@link advance}, but lets promise continuations run after every timer, so code that
   * awaits between timers observes the right time. Uses `setImmediate` to drain microtasks;
   * it does not sleep.
   */
  async tick(ms: number): Promise<void> {
    const target = this.#now + ms;
    await flushMicrotasks();
    for (;;) {
      const head = this.#heap.peek();
      if (head === undefined || head.at > target) break;
      this.advanceTo(head.at);
      await flushMicrotasks();
    }
    this.advanceTo(target);
    await flushMicrotasks();
  }

  /** Fire timers until none is left (or `maxTimers` fired), letting continuations run between them. */
  async runAll(maxTimers = 1_000_000): Promise<void> {
    for (let i = 0; i < maxTimers; i++) {
      const head = this.#heap.peek();
      if (head === undefined) return;
      this.advanceTo(head.at);
      await flushMicrotasks();
    }
    throw new Error(`VirtualClock.runAll: more than ${maxTimers} timers fired; a timer keeps rescheduling itself`);
  }
}

/** Let queued promise continuations run (one macrotask turn). */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
