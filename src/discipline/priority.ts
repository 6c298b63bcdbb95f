/**
 * Priority classes with aging. An entry of priority p enqueued at t is served in order of
 *   key = t - p * agingMs          (smallest first; ties by arrival)
 * which is exactly "effective priority = p + waited / agingMs": every `agingMs` of waiting
 * raises an entry by one class. Since `now` is common to all entries, the order never
 * changes while they wait, so a binary heap suffices.
 *
 * Starvation bound: an entry of priority p is served before every entry of priority q > p
 * that arrives more than (q - p) * agingMs after it. The lowest class waits behind at most
 * that window of higher-class arrivals, never forever.
 */
import { IndexedHeap } from '../core/indexed-heap.js';
import { Entry } from './entry.js';
import type { Discipline } from './entry.js';
import { deepFreeze } from '../core/deep-freeze.js';

export interface PriorityOptions {
  /** Waiting this long raises an entry by one priority class, ms. > 0. @default 1000 */
  readonly agingMs?: number;
}

export const PRIORITY_DEFAULTS = deepFreeze({ agingMs: 1000 } as const);

export class PriorityDiscipline<T> implements Discipline<T> {
  readonly name = 'priority';
  readonly agingMs: number;
  // Smallest key first; ties by arrival.
  readonly #heap = new IndexedHeap<Entry<T>>((a, b) => a.key < b.key || (a.key === b.key && a.seq < b.seq));
  #seq = 0;

  constructor(agingMs: number = PRIORITY_DEFAULTS.agingMs) {
    this.agingMs = agingMs;
  }

  get size(): number {
    return this.#heap.size;
  }

  push(value: T, priority: number, now: number): Entry<T> {
    const e = new Entry(value, priority, now, this.#seq++);
    e.key = now - priority * this.agingMs;
    this.#heap.push(e);
    return e;
  }

  peek(): Entry<T> | undefined {
    return this.#heap.peek();
  }

  shift(): Entry<T> | undefined {
    const e = this.#heap.peek();
    if (e !== undefined) this.remove(e);
    return e;
  }

  remove(e: Entry<T>): boolean {
    if (!e.queued || !this.#heap.remove(e)) return false;
    e.queued = false;
    return true;
  }

  oldest(): Entry<T> | undefined {
    let best: Entry<T> | undefined;
    for (const e of this.#heap) if (best === undefined || e.seq < best.seq) best = e;
    return best;
  }

  at(i: number): Entry<T> | undefined {
    return this.#heap.at(i);
  }

  drain(): Entry<T>[] {
    const out = this.#heap.clear().sort((a, b) => a.seq - b.seq);
    for (const e of out) e.queued = false;
    return out;
  }
}
