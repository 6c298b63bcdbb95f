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
import { Entry } from './entry.js';
import type { Discipline } from './entry.js';

export interface PriorityOptions {
  /** Waiting this long raises an entry by one priority class, ms. > 0. @default 1000 */
  readonly agingMs?: number;
}

export const PRIORITY_DEFAULTS = { agingMs: 1000 } as const;

export class PriorityDiscipline<T> implements Discipline<T> {
  readonly name = 'priority';
  readonly agingMs: number;
  readonly #heap: Entry<T>[] = [];
  #seq = 0;

  constructor(agingMs: number = PRIORITY_DEFAULTS.agingMs) {
    this.agingMs = agingMs;
  }

  get size(): number {
    return this.#heap.length;
  }

  push(value: T, priority: number, now: number): Entry<T> {
    const e = new Entry(value, priority, now, this.#seq++);
    e.key = now - priority * this.agingMs;
    e.index = this.#heap.length;
    this.#heap.push(e);
    this.#up(e.index);
    return e;
  }

  peek(): Entry<T> | undefined {
    return this.#heap[0];
  }

  shift(): Entry<T> | undefined {
    const e = this.#heap[0];
    if (e !== undefined) this.remove(e);
    return e;
  }

  remove(e: Entry<T>): boolean {
    if (!e.queued || e.index < 0) return false;
    e.queued = false;
    const h = this.#heap;
    const i = e.index;
    const last = h.pop()!;
    e.index = -1;
    if (i < h.length) {
      h[i] = last;
      last.index = i;
      this.#up(i);
      this.#down(last.index);
    }
    return true;
  }

  oldest(): Entry<T> | undefined {
    let best: Entry<T> | undefined;
    for (const e of this.#heap) if (best === undefined || e.seq < best.seq) best = e;
    return best;
  }

  at(i: number): Entry<T> | undefined {
    return this.#heap[i];
  }

  drain(): Entry<T>[] {
    const out = this.#heap.splice(0).sort((a, b) => a.seq - b.seq);
    for (const e of out) {
      e.queued = false;
      e.index = -1;
    }
    return out;
  }

  #less(a: Entry<T>, b: Entry<T>): boolean {
    return a.key < b.key || (a.key === b.key && a.seq < b.seq);
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
