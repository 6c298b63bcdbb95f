/**
 * A binary min-heap whose nodes know their slot, so any node can be removed in O(log n)
 * (a cancelled timer, an aborted waiter). Internal: used by the virtual clock, the
 * priority discipline and the memory rate store.
 */
export interface HeapNode {
  /** Slot in the heap; -1 when not in it. */
  index: number;
}

export class IndexedHeap<T extends HeapNode> {
  readonly #items: T[] = [];
  readonly #less: (a: T, b: T) => boolean;

  constructor(less: (a: T, b: T) => boolean) {
    this.#less = less;
  }

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  /** The node in slot `i` (heap order, not sorted order). */
  at(i: number): T | undefined {
    return this.#items[i];
  }

  push(node: T): void {
    node.index = this.#items.length;
    this.#items.push(node);
    this.#up(node.index);
  }

  /** Remove `node`; false when it is not in this heap. */
  remove(node: T): boolean {
    const i = node.index;
    const h = this.#items;
    if (i < 0 || h[i] !== node) return false;
    const last = h.pop()!;
    node.index = -1;
    if (i < h.length) {
      h[i] = last;
      last.index = i;
      this.#up(i);
      this.#down(last.index);
    }
    return true;
  }

  /** `node`'s key changed (either way): move it to its place. */
  update(node: T): void {
    const i = node.index;
    if (i < 0 || this.#items[i] !== node) return;
    this.#up(i);
    this.#down(node.index);
  }

  /** Empty the heap; returns the nodes in heap order. */
  clear(): T[] {
    const out = this.#items.splice(0);
    for (const n of out) n.index = -1;
    return out;
  }

  [Symbol.iterator](): Iterator<T> {
    return this.#items[Symbol.iterator]();
  }

  #up(i: number): void {
    const h = this.#items;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i]!, h[p]!)) break;
      this.#swap(i, p);
      i = p;
    }
  }

  #down(i: number): void {
    const h = this.#items;
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
    const h = this.#items;
    const a = h[i]!;
    const b = h[j]!;
    h[i] = b;
    h[j] = a;
    a.index = j;
    b.index = i;
  }
}
