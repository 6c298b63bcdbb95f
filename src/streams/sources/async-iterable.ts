/**
 * A publisher of an async iterable's items. Pulls one `next()` at a time while demand lasts,
 * so the iterable is never read ahead of demand; cancel calls `return()` (a pending `next()`
 * finishes first, as async generators queue calls; its value is then discarded).
 */
import { publisher } from '../publisher.js';
import type { Emitter, Source } from '../emission.js';
import type { Publisher } from '../types.js';
import { badArgument } from '../arguments.js';

class AsyncIteratorSource<T> implements Source<T> {
  #it: AsyncIterator<T> | undefined;
  constructor(it: AsyncIterator<T>) {
    this.#it = it;
  }
  async pull(e: Emitter<T>): Promise<void> {
    while (e.demand > 0) {
      const it = this.#it;
      if (it === undefined) return;
      const r = await it.next();
      if (e.cancelled) return;
      if (r.done === true) {
        this.#it = undefined;
        e.complete();
        return;
      }
      e.next(r.value);
    }
  }
  cancel(): void {
    const it = this.#it;
    this.#it = undefined;
    if (it?.return === undefined) return;
    // The cancel is the subscriber's; a failing return() has no one to report to but the process.
    Promise.resolve(it.return()).catch((err: unknown) => process.emitWarning(`sluice/streams: an async iterator's return() failed: ${String(err)}`, { code: 'SLUICE_SUBSCRIBER_ERROR' }));
  }
}

/**
 * Each subscription calls `[Symbol.asyncIterator]()`; an iterable that is its own iterator (an
 * async generator, a Readable, a Channel's iterator) takes one subscriber (§1.9).
 */
export function fromAsyncIterable<T>(iterable: AsyncIterable<T>): Publisher<T> {
  if (typeof (iterable as Partial<AsyncIterable<T>> | null | undefined)?.[Symbol.asyncIterator] !== 'function') {
    throw badArgument('fromAsyncIterable', 'iterable', 'an async iterable', iterable);
  }
  const once = (iterable as unknown as Partial<AsyncIterator<T>>).next !== undefined;
  return publisher(() => new AsyncIteratorSource(iterable[Symbol.asyncIterator]()), { name: 'fromAsyncIterable', single: once });
}
