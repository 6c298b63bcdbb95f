/** A queued item or waiter. One shape for every discipline keeps call sites monomorphic. */
export class Entry<T> {
  prev: Entry<T> | undefined = undefined;
  next: Entry<T> | undefined = undefined;
  /** Heap slot (priority discipline); -1 when not in a heap. */
  index = -1;
  /** Heap order key (priority discipline). */
  key = 0;
  /** Whether the entry is still queued. */
  queued = true;
  constructor(
    readonly value: T,
    readonly priority: number,
    readonly enqueuedAt: number,
    readonly seq: number,
  ) {}
}

/** Called with each entry a discipline evicts on its own (CoDel), before `shift` returns. */
export type EvictFn<T> = (entry: Entry<T>) => void;

/**
 * A waiting discipline: the order in which queued items or waiters are served.
 * All operations that a caller's abort or deadline needs (`remove`) are O(1) or O(log n).
 */
export interface Discipline<T> {
  readonly name: string;
  readonly size: number;
  push(value: T, priority: number, now: number): Entry<T>;
  /**
   * The entry `shift` would return next. With `now`, a discipline that evicts on its own
   * (CoDel) first makes its evictions, so `peek(now, f)` then `remove(e)` equals `shift(now, f)`.
   * A gate uses this to check that the next waiter fits before taking it.
   */
  peek(now?: number, onEvict?: EvictFn<T>): Entry<T> | undefined;
  /** Remove and return the next entry to serve; may first evict entries through `onEvict`. */
  shift(now: number, onEvict?: EvictFn<T>): Entry<T> | undefined;
  /** Remove a queued entry (abort, deadline, drop). False when it was no longer queued. */
  remove(entry: Entry<T>): boolean;
  /** The entry that arrived first (drop-oldest's victim). */
  oldest(): Entry<T> | undefined;
  /** The entry at position `i` in arrival order, O(n); used by drop-random only. */
  at(i: number): Entry<T> | undefined;
  /** Remove and return every entry (close). */
  drain(): Entry<T>[];
}
