/**
 * Waiters with a deadline, earliest first, behind ONE timer (for a whole gate, however many
 * wait). Invariant: while it is not empty, the timer is armed at `#at` <= the earliest
 * deadline (it may be earlier, when the earliest waiter left: it then fires, expires nothing
 * and re-arms).
 *
 * A timer that fires late — the event loop was stalled past the deadline (a long synchronous
 * run, a GC pause, a busy process) — expires from `setImmediate`, after the loop's poll phase:
 * Node runs expired timers before it reads the sockets, so the releases that came during the
 * stall (an upstream's answer waiting in its socket) serve the waiters first, and only those
 * whose slots were not freed are refused (core/stall-aware.ts, shared with the channels' and the
 * Redis gate's waiter timers; the Redis store's guard defers its timeouts alike: store-guard.ts).
 * A virtual clock fires on time: no deferral.
 */
import type { Clock, TimerHandle } from '../core/index.js';
import { stallAware } from '../core/stall-aware.js';
import { DeadlineQueue } from './deadline-queue.js';
import type { DeadlineNode } from './deadline-queue.js';

export class DeadlineTimer<N extends DeadlineNode<N> & { readonly deadline: number }> {
  readonly #queue = new DeadlineQueue<N>();
  readonly #clock: Clock;
  /** Called for each waiter whose deadline has come; it must `remove` it. May re-enter. */
  readonly #onDue: (node: N) => void;
  #timer: TimerHandle | undefined = undefined;
  #at = Infinity;
  readonly #onTimer = (): void => {
    const due = this.#at;
    this.#timer = undefined;
    this.#at = Infinity;
    this.#fire(due);
  };

  constructor(clock: Clock, onDue: (node: N) => void) {
    this.#clock = stallAware(clock);
    this.#onDue = onDue;
  }

  add(node: N, now: number): void {
    this.#queue.push(node);
    if (node.deadline < this.#at) this.#arm(node.deadline, now);
  }

  remove(node: N): void {
    if (!this.#queue.has(node)) return;
    this.#queue.remove(node);
    if (this.#queue.size === 0) this.#disarm();
  }

  #arm(at: number, now: number): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#at = at;
    this.#timer = this.#clock.setTimer(this.#onTimer, at - now);
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#at = Infinity;
  }

  /**
   * Expire every waiter whose deadline has come, earliest first, as its own timer would have.
   * The timer's due time counts as reached even if a real clock reads a hair earlier (Node
   * timers round), as a per-waiter timer firing expired its waiter.
   */
  #fire(due: number): void {
    let now = this.#clock.now();
    for (;;) {
      const node = this.#queue.peek();
      if (node === undefined || node.deadline > (now > due ? now : due)) break;
      this.#onDue(node);
      now = this.#clock.now();
    }
    const next = this.#queue.peek();
    if (next !== undefined && next.deadline < this.#at) this.#arm(next.deadline, now);
  }
}
