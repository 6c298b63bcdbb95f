/**
 * `for await (const item of channel)`. Each `next()` is a take; the loop ends when the channel
 * is closed and drained. Leaving the loop early (`break`, `return`, a throw in the body) calls
 * `return()`, which ends this iterator only: the channel stays open for other consumers and
 * its items stay queued. A pending `next()` of the ended iterator settles done and never
 * receives an item, so nothing is lost.
 */

import { optionKeys, optKnownKeys } from '../core/option-keys.js';

export const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true as const });

/** Module-private hooks the channel implements; symbols keep them off the public surface. */
export const kReceive = Symbol('sluice.channel.receive');
export const kCancel = Symbol('sluice.channel.cancel');

export interface ReceiveSource<T> {
  [kReceive](owner: object, signal: AbortSignal | undefined): Promise<IteratorResult<T, undefined>>;
  [kCancel](owner: object): void;
}

export interface ValuesOptions {
  /** Aborting rejects the pending `next()` with AbortedError (the loop throws); items stay queued. */
  readonly signal?: AbortSignal;
}

/** `values()` and `batches()` take the same options; a misspelt `signl` would leave the loop unabortable. */
export const VALUES_KEYS = optionKeys<ValuesOptions>({ signal: true });

export class ChannelIterator<T> implements AsyncIterableIterator<T, undefined> {
  readonly #source: ReceiveSource<T>;
  readonly #signal: AbortSignal | undefined;
  #ended = false;

  constructor(source: ReceiveSource<T>, options: ValuesOptions | undefined) {
    optKnownKeys('values', options, VALUES_KEYS);
    this.#source = source;
    this.#signal = options?.signal;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    return this.#ended ? Promise.resolve(DONE) : this.#source[kReceive](this, this.#signal);
  }

  return(): Promise<IteratorResult<T, undefined>> {
    if (!this.#ended) {
      this.#ended = true;
      this.#source[kCancel](this);
    }
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
