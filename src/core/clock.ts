/**
 * Time, injected. Every sluice primitive takes a {@link Clock}; the default is the real
 * monotonic clock, tests and the simulator use {@link VirtualClock} so that minutes of
 * overload run in milliseconds and give the same answer every time.
 */
import { performance } from 'node:perf_hooks';

/** An opaque handle for a timer created by a {@link Clock}. */
export type TimerHandle = { readonly __timer: unique symbol } | object;

export interface Clock {
  /** Monotonic milliseconds. Only differences are meaningful. */
  now(): number;
  /** Run `fn` once after `ms` milliseconds (clamped to >= 0). */
  setTimer(fn: () => void, ms: number): TimerHandle;
  /** Cancel a timer; cancelling twice or after it fired is a no-op. */
  clearTimer(handle: TimerHandle): void;
}

/** The real clock: `performance.now()` and Node timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, Math.max(0, ms)),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

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
  readonly #heap: VirtualTimer[] = [];

  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const t: VirtualTimer = { at: this.#now + Math.max(0, Number.isFinite(ms) ? ms : 0), seq: this.#seq++, fn, index: -1 };
    this.#push(t);
    return t;
  }

  clearTimer(handle: TimerHandle): void {
    const t = handle as VirtualTimer;
    if (t.fn === undefined || t.index < 0) return;
    t.fn = undefined;
    this.#removeAt(t.index);
  }

  /** Number of timers not yet fired or cleared. */
  get pendingTimers(): number {
    return this.#heap.length;
  }

  /** Due time of the next timer, or undefined. */
  nextTimerAt(): number | undefined {
    return this.#heap[0]?.at;
  }

  /** Move time forward by `ms`, firing every timer due on the way, synchronously. */
  advance(ms: number): void {
    this.advanceTo(this.#now + ms);
  }

  /** Move time forward to `target` (never backwards), firing due timers synchronously. */
  advanceTo(target: number): void {
    for (;;) {
      const head = this.#heap[0];
      if (head === undefined || head.at > target) break;
      this.#removeAt(0);
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
      const head = this.#heap[0];
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
      const head = this.#heap[0];
      if (head === undefined) return;
      this.advanceTo(head.at);
      await flushMicrotasks();
    }
    throw new Error(`VirtualClock.runAll: more than ${maxTimers} timers fired; a timer keeps rescheduling itself`);
  }

  #push(t: VirtualTimer): void {
    const h = this.#heap;
    t.index = h.length;
    h.push(t);
    this.#up(t.index);
  }

  #removeAt(i: number): void {
    const h = this.#heap;
    const removed = h[i]!;
    const last = h.pop()!;
    removed.index = -1;
    if (i < h.length) {
      h[i] = last;
      last.index = i;
      this.#up(i);
      this.#down(last.index);
    }
  }

  #less(a: VirtualTimer, b: VirtualTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #up(i: number): void {
    const h = this.#heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i]!, h[p]!)) break;
      this.#swap(i, p);
      i = p;
    }
  }

  #down(i: number): void {
    const h = this.#heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.#less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.#less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }

  #swap(i: number, j: number): void {
    const h = this.#heap;
    const a = h[i]!;
    const b = h[j]!;
    h[i] = b;
    h[j] = a;
    a.index = j;
    b.index = i;
  }
}

/** Let queued promise continuations run (one macrotask turn). */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
