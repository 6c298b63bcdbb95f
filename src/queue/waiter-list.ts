/**
 * Waiters in arrival order, intrusive (the waiter is the node): O(1) push, shift and removal
 * of an aborted or expired waiter, no allocation.
 */
import type { Waiter } from './waiter.js';

/** What BlockedPuts needs of its queue of putters: FIFO here, or by priority (priority-putters.ts). */
export interface WaiterQueue<W> {
  readonly size: number;
  push(w: W, now: number): void;
  shift(): W | undefined;
  /** False when `w` was no longer waiting (already served, expired or aborted). */
  remove(w: W): boolean;
  /** Remove and return every waiter. */
  drain(): W[];
  /** Whether `push` needs a real `now` (priority aging does, FIFO does not). */
  readonly timed: boolean;
}

export class WaiterList<W extends Waiter> implements WaiterQueue<W> {
  readonly timed = false;
  head: W | undefined = undefined;
  #tail: W | undefined = undefined;
  size = 0;

  push(w: W): void {
    w.linked = true;
    w.prev = this.#tail;
    w.next = undefined;
    if (this.#tail === undefined) this.head = w;
    else this.#tail.next = w;
    this.#tail = w;
    this.size++;
  }

  shift(): W | undefined {
    const w = this.head;
    if (w !== undefined) this.remove(w);
    return w;
  }

  remove(w: W): boolean {
    if (!w.linked) return false;
    w.linked = false;
    if (w.prev === undefined) this.head = w.next;
    else w.prev.next = w.next;
    if (w.next === undefined) this.#tail = w.prev;
    else w.next.prev = w.prev;
    w.prev = w.next = undefined;
    this.size--;
    return true;
  }

  drain(): W[] {
    const out: W[] = [];
    for (let w = this.shift(); w !== undefined; w = this.shift()) out.push(w);
    return out;
  }
}
