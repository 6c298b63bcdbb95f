/**
 * FIFO fast path: a power-of-two ring buffer. No allocation per item and no clock read, which
 * is what makes a plain FIFO channel cheaper than a linked discipline (one Entry per item).
 * It grows by doubling up to the channel's capacity, so a huge capacity costs nothing upfront.
 */
import { NONE } from './item-store.js';
import type { ItemStore, None } from './item-store.js';

const INITIAL_MAX = 1024;

export class RingStore<T> implements ItemStore<T> {
  #buf: (T | undefined)[];
  #mask: number;
  #head = 0;
  #size = 0;

  constructor(capacity: number) {
    let n = 1;
    while (n < capacity && n < INITIAL_MAX) n *= 2;
    this.#buf = slots<T>(n);
    this.#mask = n - 1;
  }

  get size(): number {
    return this.#size;
  }

  push(item: T): void {
    if (this.#size === this.#buf.length) this.#grow();
    this.#buf[(this.#head + this.#size) & this.#mask] = item;
    this.#size++;
  }

  shift(): T | None {
    if (this.#size === 0) return NONE;
    const head = this.#head;
    const item = this.#buf[head] as T;
    this.#buf[head] = undefined; // do not retain a taken item
    this.#head = (head + 1) & this.#mask;
    this.#size--;
    return item;
  }

  evictOldest(): T {
    return this.shift() as T;
  }

  evictAt(i: number): T {
    const buf = this.#buf;
    const mask = this.#mask;
    const head = this.#head;
    const n = this.#size;
    const item = buf[(head + i) & mask] as T;
    // Close the gap from the nearer end; the rest keep their order.
    if (i < n - 1 - i) {
      for (let k = i; k > 0; k--) buf[(head + k) & mask] = buf[(head + k - 1) & mask];
      buf[head] = undefined;
      this.#head = (head + 1) & mask;
    } else {
      for (let k = i; k < n - 1; k++) buf[(head + k) & mask] = buf[(head + k + 1) & mask];
      buf[(head + n - 1) & mask] = undefined;
    }
    this.#size = n - 1;
    return item;
  }

  drain(): T[] {
    const out: T[] = [];
    for (let item = this.shift(); item !== NONE; item = this.shift()) out.push(item);
    return out;
  }

  #grow(): void {
    const old = this.#buf;
    const next = slots<T>(old.length * 2);
    for (let k = 0; k < this.#size; k++) next[k] = old[(this.#head + k) & this.#mask];
    this.#buf = next;
    this.#mask = next.length - 1;
    this.#head = 0;
  }
}

/** A packed array of `n` empty slots (push keeps V8's packed elements kind). */
function slots<T>(n: number): (T | undefined)[] {
  const a: (T | undefined)[] = [];
  for (let i = 0; i < n; i++) a.push(undefined);
  return a;
}

/** Map a draw in [0, 1) to an index in [0, n); an out-of-range draw is clamped, NaN picks 0. */
export function randomIndex(r: number, n: number): number {
  const i = Math.floor(r * n);
  return i >= 0 ? (i < n ? i : n - 1) : 0;
}
