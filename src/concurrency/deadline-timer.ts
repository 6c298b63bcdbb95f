/**
 * Waiters with a deadline, earliest first, behind ONE timer (for a whole gate, however many
 * wait). Invariant: while it is not empty, the timer is armed at `#at` <= the earliest
 * deadline (it may be earlier, when the earliest waiter left: it then fires, expires nothing
 * and re-arms).
 */
import type { Clock, TimerHandle } from '../core/index.js';
import { DeadlineQueue } from './deadline-queue.js';
import type { DeadlineNode } from './deadline-queue.js';

export class DeadlineTimer<N extends DeadlineNode<N> & { readonly deadline: number }> {
  readonly #queue = new DeadlineQueue<N>();
  readonly #clock: Clock;
  /** Called for each waiter whose deadline has come; it must `remove` it. May re-enter. */
  readonly #onDue: (node: N) => void;
  #timer: TimerHandle | undefined = undefined;
  #at = Infinity;
  readonly #onTimer = (): void => this.#fire();

  constructor(clock: Clock, onDue: (node: N) => void) {
    this.#clock = clock;
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
  #fire(): void {
    const due = this.#at;
    this.#timer = undefined;
    this.#at = Infinity;
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
