/**
 * Arrival-ordered doubly linked list: the storage of FIFO, LIFO and CoDel. O(1) push,
 * shift from either end, and removal of any entry (an aborted waiter leaves at once).
 */
import { Entry } from './entry.js';
import type { Discipline, EvictFn } from './entry.js';

export abstract class LinkedDiscipline<T> implements Discipline<T> {
  abstract readonly name: string;
  protected head: Entry<T> | undefined = undefined;
  protected tail: Entry<T> | undefined = undefined;
  #size = 0;
  #seq = 0;

  get size(): number {
    return this.#size;
  }

  push(value: T, priority: number, now: number): Entry<T> {
    const e = new Entry(value, priority, now, this.#seq++);
    if (this.tail === undefined) {
      this.head = this.tail = e;
    } else {
      e.prev = this.tail;
      this.tail.next = e;
      this.tail = e;
    }
    this.#size++;
    return e;
  }

  abstract peek(): Entry<T> | undefined;
  abstract shift(now: number, onEvict?: EvictFn<T>): Entry<T> | undefined;

  remove(e: Entry<T>): boolean {
    if (!e.queued) return false;
    e.queued = false;
    if (e.prev === undefined) this.head = e.next;
    else e.prev.next = e.next;
    if (e.next === undefined) this.tail = e.prev;
    else e.next.prev = e.prev;
    e.prev = e.next = undefined;
    this.#size--;
    return true;
  }

  oldest(): Entry<T> | undefined {
    return this.head;
  }

  at(i: number): Entry<T> | undefined {
    let e = this.head;
    for (let k = 0; k < i && e !== undefined; k++) e = e.next;
    return e;
  }

  drain(): Entry<T>[] {
    const out: Entry<T>[] = [];
    for (let e = this.head; e !== undefined; ) {
      const next = e.next;
      e.queued = false;
      e.prev = e.next = undefined;
      out.push(e);
      e = next;
    }
    this.head = this.tail = undefined;
    this.#size = 0;
    return out;
  }
}

/** First in, first out: fair, but under sustained overload every waiter waits the longest. */
export class FifoDiscipline<T> extends LinkedDiscipline<T> {
  readonly name = 'fifo';
  peek(): Entry<T> | undefined {
    return this.head;
  }
  shift(): Entry<T> | undefined {
    const e = this.head;
    if (e !== undefined) this.remove(e);
    return e;
  }
}

/**
 * Last in, first out: under overload the newest waiter (whose client is most likely still
 * there) is served, and old waiters time out instead of every waiter being late.
 */
export class LifoDiscipline<T> extends LinkedDiscipline<T> {
  readonly name = 'lifo';
  peek(): Entry<T> | undefined {
    return this.tail;
  }
  shift(): Entry<T> | undefined {
    const e = this.tail;
    if (e !== undefined) this.remove(e);
    return e;
  }
}
