/** Sources from arrays and (sync) iterables: each pull emits up to the demand, synchronously. */
import { publisher } from '../publisher.js';
import type { Emitter, Source } from '../emission.js';
import type { Publisher } from '../types.js';
import { badArgument } from '../arguments.js';

class ArraySource<T> implements Source<T> {
  #i = 0;
  constructor(readonly items: readonly T[]) {}
  start(e: Emitter<T>): void {
    if (this.items.length === 0) e.complete();
  }
  pull(e: Emitter<T>): void {
    const items = this.items;
    let i = this.#i;
    while (i < items.length && e.next(items[i++]!));
    this.#i = i;
    if (i >= items.length) e.complete();
  }
}

class IteratorSource<T> implements Source<T> {
  #it: Iterator<T> | undefined;
  constructor(it: Iterator<T>) {
    this.#it = it;
  }
  pull(e: Emitter<T>): void {
    const it = this.#it!;
    for (;;) {
      const r = it.next();
      if (r.done === true) {
        this.#it = undefined;
        e.complete();
        return;
      }
      if (!e.next(r.value)) return;
    }
  }
  cancel(): void {
    const it = this.#it;
    this.#it = undefined;
    it?.return?.(); // close a generator's finally blocks
  }
}

/**
 * A cold publisher of an array's items: every subscriber gets all of them, at its own pace.
 * The array is read as it is when each item is due (copy it first if it may change).
 */
export function fromArray<T>(items: readonly T[]): Publisher<T> {
  if (!Array.isArray(items)) throw badArgument('fromArray', 'items', 'an array', items);
  return publisher<T>(() => new ArraySource<T>(items), { name: 'fromArray' });
}

/**
 * A publisher of an iterable's items. Each subscription calls `[Symbol.iterator]()`; an
 * iterable that is its own iterator (a generator) can be read once, so it takes one
 * subscriber (a second is refused with onError, §1.9). Cancel calls the iterator's `return()`.
 */
export function fromIterable<T>(iterable: Iterable<T>): Publisher<T> {
  if (Array.isArray(iterable)) return fromArray<T>(iterable as unknown as readonly T[]);
  if (typeof (iterable as Partial<Iterable<T>> | null | undefined)?.[Symbol.iterator] !== 'function') {
    throw badArgument('fromIterable', 'iterable', 'an iterable', iterable);
  }
  const once = (iterable as unknown as Partial<Iterator<T>>).next !== undefined;
  return publisher(() => new IteratorSource(iterable[Symbol.iterator]()), { name: 'fromIterable', single: once });
}
