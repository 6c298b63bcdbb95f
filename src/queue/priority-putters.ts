/**
 * Blocked putters ordered like the items under the 'priority' discipline: by priority with
 * aging (see PriorityDiscipline), so a high-priority put is not stuck behind low-priority ones
 * for longer than the aging bound.
 */
import type { Discipline } from '../discipline/entry.js';
import type { WaiterQueue } from './waiter-list.js';
import type { PutWaiter } from './waiter.js';

export class PriorityPutters<T> implements WaiterQueue<PutWaiter<T>> {
  readonly timed = true;
  readonly #d: Discipline<PutWaiter<T>>;

  constructor(discipline: Discipline<PutWaiter<T>>) {
    this.#d = discipline;
  }

  get size(): number {
    return this.#d.size;
  }

  push(w: PutWaiter<T>, now: number): void {
    w.entry = this.#d.push(w, w.priority, now);
  }

  shift(): PutWaiter<T> | undefined {
    const e = this.#d.shift(0);
    if (e === undefined) return undefined;
    e.value.entry = undefined;
    return e.value;
  }

  remove(w: PutWaiter<T>): boolean {
    const e = w.entry;
    if (e === undefined || !this.#d.remove(e)) return false;
    w.entry = undefined;
    return true;
  }

  drain(): PutWaiter<T>[] {
    return this.#d.drain().map((e) => {
      e.value.entry = undefined;
      return e.value;
    });
  }
}
