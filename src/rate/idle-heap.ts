/**
 * A binary min-heap of the memory store's entries by `at` (memory-store.ts keeps it at or
 * before each entry's rank and idleAt, and brings it up lazily, when the entry reaches the
 * top). Entries keep their own index, so one is removed or moved in O(log n).
 */
export interface HeapEntry {
  /** Heap key. */
  at: number;
  /** Position in the heap; -1 when not in it. */
  i: number;
}

export class IdleHeap<E extends HeapEntry> {
  readonly #a: E[] = [];

  get size(): number {
    return this.#a.length;
  }

  /** The entry with the earliest `at`, or undefined. */
  peek(): E | undefined {
    return this.#a[0];
  }

  push(e: E): void {
    e.i = this.#a.length;
    this.#a.push(e);
    this.#up(e.i);
  }

  remove(e: E): void {
    const i = e.i;
    const a = this.#a;
    if (i < 0 || a[i] !== e) return;
    e.i = -1;
    const last = a.pop()!;
    if (last === e) return;
    a[i] = last;
    last.i = i;
    this.#down(i);
    this.#up(last.i);
  }

  /** `e.at` was set earlier than it was: move it up. */
  lowered(e: E): void {
    if (e.i >= 0) this.#up(e.i);
  }

  /** The top's `at` raised to `at`: move it down. */
  raiseTop(at: number): void {
    const e = this.#a[0];
    if (e === undefined) return;
    e.at = at;
    this.#down(0);
  }

  clear(): void {
    for (const e of this.#a) e.i = -1;
    this.#a.length = 0;
  }

  #up(i: number): void {
    const a = this.#a;
    const e = a[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = a[p]!;
      if (pe.at <= e.at) break;
      a[i] = pe;
      pe.i = i;
      i = p;
    }
    a[i] = e;
    e.i = i;
  }

  #down(i: number): void {
    const a = this.#a;
    const n = a.length;
    const e = a[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && a[c + 1]!.at < a[c]!.at) c++;
      const ce = a[c]!;
      if (ce.at >= e.at) break;
      a[i] = ce;
      ce.i = i;
      i = c;
    }
    a[i] = e;
    e.i = i;
  }
}
