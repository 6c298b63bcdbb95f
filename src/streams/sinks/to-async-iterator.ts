/**
 * `for await (const item of toAsyncIterator(publisher))`. Subscribes on the first `next()`;
 * requests `batch` items whenever what it holds and what it asked for runs out, so at most
 * `batch` items wait in it. Leaving the loop (`break`, a throw) cancels the subscription; an
 * error from the publisher is thrown by the `next()` that reaches it, after the items before it.
 *
 * `next()` may be called again before the last one settled (the async-iterator protocol allows
 * it): the calls wait in order, each takes the next item, and once the stream ends the first
 * waiting call gets the end (done, or the error) and the later ones done. `return()` settles
 * every waiting call with done.
 */
import { optionKeys, optKnownKeys } from '../../core/option-keys.js';
import { optInt } from '../../core/options.js';
import { argPublisher } from '../arguments.js';
import { checkSignalArg, checkSubscription } from '../rules.js';
import type { Publisher, Subscriber, Subscription } from '../types.js';

interface Waiter<T> {
  readonly resolve: (r: IteratorResult<T, undefined>) => void;
  readonly reject: (e: unknown) => void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true as const });

class IteratorSink<T> implements Subscriber<T>, AsyncIterableIterator<T, undefined> {
  readonly #source: Publisher<T>;
  readonly #batch: number;
  #subscription: Subscription | undefined;
  #started = false;
  #outstanding = 0;
  readonly #items: T[] = [];
  #head = 0;
  #end: { readonly error: unknown } | null | undefined = undefined;
  /** Calls of next() waiting for an item, oldest first; while any wait, `#items` is empty. */
  #waiters: Waiter<T>[] = [];
  #finished = false;

  constructor(source: Publisher<T>, batch: number) {
    this.#source = source;
    this.#batch = batch;
  }

  onSubscribe(subscription: Subscription): void {
    const s = checkSubscription(subscription);
    if (this.#subscription !== undefined || this.#finished) {
      s.cancel(); // §2.5
      return;
    }
    this.#subscription = s;
    this.#refill();
  }

  onNext(item: T): void {
    checkSignalArg(item, 'onNext');
    if (this.#finished) return;
    this.#outstanding--;
    const w = this.#waiters.shift();
    if (w !== undefined) {
      w.resolve({ value: item, done: false });
      this.#refill();
      return;
    }
    this.#items.push(item);
  }

  onError(error: unknown): void {
    checkSignalArg(error, 'onError');
    this.#terminal({ error });
  }

  onComplete(): void {
    this.#terminal(null);
  }

  #terminal(end: { readonly error: unknown } | null): void {
    if (this.#finished || this.#end !== undefined) return;
    this.#end = end;
    this.#subscription = undefined;
    const waiters = this.#takeWaiters();
    if (waiters.length === 0) return;
    this.#finished = true;
    if (end === null) waiters[0]!.resolve(DONE);
    else waiters[0]!.reject(end.error);
    for (let i = 1; i < waiters.length; i++) waiters[i]!.resolve(DONE);
  }

  #takeWaiters(): Waiter<T>[] {
    const waiters = this.#waiters;
    this.#waiters = [];
    return waiters;
  }

  #refill(): void {
    const s = this.#subscription;
    if (s === undefined || this.#outstanding > 0 || this.#items.length - this.#head > 0) return;
    this.#outstanding = this.#batch;
    s.request(this.#batch);
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#head < this.#items.length) {
      const value = this.#items[this.#head]!;
      this.#items[this.#head++] = undefined as T;
      if (this.#head === this.#items.length) {
        this.#items.length = 0;
        this.#head = 0;
        this.#refill();
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#finished) return Promise.resolve(DONE);
    const end = this.#end;
    if (end !== undefined) {
      this.#finished = true;
      return end === null ? Promise.resolve(DONE) : Promise.reject(end.error as Error);
    }
    const p = new Promise<IteratorResult<T, undefined>>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (!this.#started) {
      this.#started = true;
      this.#source.subscribe(this);
    } else {
      this.#refill();
    }
    return p;
  }

  return(): Promise<IteratorResult<T, undefined>> {
    if (!this.#finished) {
      this.#finished = true;
      this.#items.length = 0;
      const s = this.#subscription;
      this.#subscription = undefined;
      s?.cancel();
      for (const w of this.#takeWaiters()) w.resolve(DONE);
    }
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

const BATCH_KEYS = optionKeys<{ readonly batch?: number }>({ batch: true });

/** An async iterator over a publisher's items (see the file comment for demand and cancel). */
export function toAsyncIterator<T>(source: Publisher<T>, options?: { readonly batch?: number }): AsyncIterableIterator<T, undefined> {
  // At the call, as the other sinks check theirs: it was found only at the first next(), as a TypeError.
  argPublisher('toAsyncIterator', source);
  optKnownKeys('toAsyncIterator', options, BATCH_KEYS);
  return new IteratorSink<T>(source, optInt('batch', options?.batch ?? 16, 1));
}
