/**
 * Waiters by wait deadline, earliest first, ties in arrival order: what a gate needs to run
 * ONE timer for its earliest deadline instead of a timer per waiter.
 *
 * Deadlines mostly arrive in order (now + a fixed maxWaitMs, or one deadline for a whole
 * batch), so a node whose deadline is no earlier than the last one in the sorted run goes on
 * a linked list: O(1) to add at its tail and to remove from anywhere. A node that would break
 * the order goes to a heap instead, O(log n). The earliest node is the earlier of the two heads.
 */
import { IndexedHeap } from '../core/indexed-heap.js';
import type { HeapNode } from '../core/indexed-heap.js';

export interface DeadlineNode<N extends DeadlineNode<N>> extends HeapNode {
  /** Absolute time; finite. */
  readonly deadline: number;
  /** Arrival order: breaks ties. */
  readonly seq: number;
  prevByDeadline: N | undefined;
  nextByDeadline: N | undefined;
}

/** `index` of a node on the sorted list (heap slots are >= 0; -1 is "in neither"). */
const ON_LIST = -2;

export class DeadlineQueue<N extends DeadlineNode<N>> {
  #head: N | undefined = undefined;
  #tail: N | undefined = undefined;
  #listed = 0;
  readonly #heap = new IndexedHeap<N>(earlier);

  get size(): number {
    return this.#listed + this.#heap.size;
  }

  /** Whether `n` is in this queue (a node is in at most one). */
  has(n: N): boolean {
    return n.index !== -1;
  }

  push(n: N): void {
    const tail = this.#tail;
    if (tail !== undefined && n.deadline < tail.deadline) {
      this.#heap.push(n);
      return;
    }
    n.index = ON_LIST;
    if (tail === undefined) this.#head = n;
    else {
      tail.nextByDeadline = n;
      n.prevByDeadline = tail;
    }
    this.#tail = n;
    this.#listed++;
  }

  remove(n: N): boolean {
    if (n.index !== ON_LIST) return this.#heap.remove(n);
    const prev = n.prevByDeadline;
    const next = n.nextByDeadline;
    if (prev === undefined) this.#head = next;
    else prev.nextByDeadline = next;
    if (next === undefined) this.#tail = prev;
    else next.prevByDeadline = prev;
    n.prevByDeadline = n.nextByDeadline = undefined;
    n.index = -1;
    this.#listed--;
    return true;
  }

  /** The node with the earliest deadline (first arrived among equals), or undefined. */
  peek(): N | undefined {
    const a = this.#head;
    const b = this.#heap.peek();
    if (a === undefined) return b;
    return b !== undefined && earlier(b, a) ? b : a;
  }
}

function earlier<N extends DeadlineNode<N>>(a: N, b: N): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
}
