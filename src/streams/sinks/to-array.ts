/** Collect every item into an array; `batch` items requested at a time. Resolves on completion. */
import { optionKeys, optKnownKeys } from '../../core/option-keys.js';
import { optInt } from '../../core/options.js';
import type { Publisher, Subscription } from '../types.js';
import { SinkBase } from './sink-base.js';
import { argPublisher } from '../arguments.js';

class ToArraySink<T> extends SinkBase<T, T[]> {
  readonly #items: T[] = [];
  #left = 0;
  constructor(readonly batch: number) {
    super();
  }
  protected started(s: Subscription): void {
    this.#left = this.batch;
    s.request(this.batch);
  }
  protected item(item: T): void {
    this.#items.push(item);
    if (--this.#left === 0) {
      this.#left = this.batch;
      this.subscription?.request(this.batch);
    }
  }
  protected upstreamCompleted(): void {
    this.succeed(this.#items);
  }
}

const BATCH_KEYS = optionKeys<{ readonly batch?: number }>({ batch: true });

export function toArray<T>(source: Publisher<T>, options?: { readonly batch?: number }): Promise<T[]> {
  argPublisher('toArray', source);
  optKnownKeys('toArray', options, BATCH_KEYS);
  const sink = new ToArraySink<T>(optInt('batch', options?.batch ?? 256, 1));
  source.subscribe(sink);
  return sink.promise;
}
