/**
 * Where a channel keeps its buffered items. Two implementations: a ring buffer for plain FIFO
 * (no per-item allocation, no clock read) and an adapter over any waiting discipline.
 */

/** "Nothing there": a sentinel, because `undefined` may be a legitimate item. */
export const NONE: unique symbol = Symbol('sluice.none');
export type None = typeof NONE;

export interface ItemStore<T> {
  readonly size: number;
  /** Append an item; the caller has checked that there is room. */
  push(item: T, priority: number): void;
  /** Remove and return the next item to take, or NONE. A discipline may evict first (CoDel). */
  shift(): T | None;
  /** Remove and return the item that arrived first. Precondition: size > 0. */
  evictOldest(): T;
  /** Remove and return the item at position `i` (0 <= i < size), in the store's own order. */
  evictAt(i: number): T;
  /** Remove and return every item, in arrival order. */
  drain(): T[];
}
