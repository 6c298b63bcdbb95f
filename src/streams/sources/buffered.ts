/**
 * A source for items that arrive whether or not anyone asked (events, a hot publisher): they
 * go into a bounded Channel with an explicit overflow strategy, so every drop is counted,
 * reported to `onDrop` and emitted as a 'drop' event; `pull` hands them out as demand allows.
 */
import { RejectedError } from '../../core/errors.js';
import { optInt, optOneOf } from '../../core/options.js';
import { Channel } from '../../queue/channel.js';
import type { DropPolicy } from '../../queue/options.js';
import type { Emitter, Source } from '../emission.js';
import { badArgument } from '../arguments.js';
import { deepFreeze } from '../../core/deep-freeze.js';

/**
 * What happens to an item that arrives when the buffer is full:
 * - `'drop-newest'`: the arriving item is dropped;
 * - `'drop-oldest'`: the oldest buffered item is dropped;
 * - `'drop-latest'`: the most recently buffered item is replaced by the arriving one;
 * - `'error'`: the stream fails with RejectedError `queue_full`.
 */
export type HotOverflow = 'drop-newest' | 'drop-oldest' | 'drop-latest' | 'error';
export const HOT_OVERFLOWS: readonly HotOverflow[] = deepFreeze(['drop-newest', 'drop-oldest', 'drop-latest', 'error']);

export interface HotBufferOptions<T> {
  /** Items held while there is no demand. Integer >= 1. Required: events do not wait. */
  readonly capacity: number;
  /** Required: what a full buffer does (events cannot be slowed down). */
  readonly overflow: HotOverflow;
  /** Called for every dropped item. */
  readonly onDrop?: (item: T, policy: DropPolicy) => void;
  /** Name of the buffer's channel (stats, events). */
  readonly name?: string;
  /** Receives the buffer's Channel on each subscription (its stats(): depth, drops). */
  readonly onChannel?: (channel: Channel<T>) => void;
}

/** Validate once, at construction of the operator or source. */
export function hotBufferOptions<T>(options: HotBufferOptions<T> | undefined, where: string): HotBufferOptions<T> {
  if (options === undefined || options === null || typeof options !== 'object') {
    throw badArgument(where, 'options', 'an object { capacity, overflow } (an overflow strategy is required: events do not wait)', options);
  }
  optInt('capacity', options.capacity, 1, Number.MAX_SAFE_INTEGER);
  optOneOf('overflow', options.overflow, HOT_OVERFLOWS);
  return options;
}

export class HotBuffer<T> implements Source<T> {
  readonly channel: Channel<T>;
  #emitter: Emitter<T> | undefined;
  #ended: { readonly error: unknown } | null | undefined = undefined;

  constructor(options: HotBufferOptions<T>, name: string) {
    const overflow = options.overflow === 'error' ? 'reject' : options.overflow;
    this.channel = new Channel<T>({ capacity: options.capacity, overflow, name: options.name ?? name, ...(options.onDrop === undefined ? {} : { onDrop: options.onDrop }) });
    options.onChannel?.(this.channel);
  }

  start(e: Emitter<T>): void {
    this.#emitter = e;
  }

  /** An item arrived. Answers false once the stream is over (stop sending). */
  offer(item: T): boolean {
    const e = this.#emitter;
    if (e === undefined || e.cancelled || this.#ended !== undefined) return false;
    if (e.demand > 0 && this.channel.size === 0) return e.next(item) || !e.cancelled;
    const r = this.channel.tryPut(item);
    if (typeof r === 'object') {
      this.fail(new RejectedError(r));
      return false;
    }
    e.wake();
    return true;
  }

  end(): void {
    if (this.#ended !== undefined) return;
    this.#ended = null;
    this.#emitter?.wake();
    this.#finishIfDrained();
  }

  fail(error: unknown): void {
    if (this.#ended !== undefined) return;
    this.#ended = { error };
    this.channel.closeNow();
    this.#emitter?.error(error);
  }

  pull(e: Emitter<T>): void {
    const ch = this.channel;
    while (e.demand > 0) {
      const r = ch.tryTake();
      if (!r.ok) break;
      e.next(r.value);
    }
    this.#finishIfDrained();
  }

  cancel(): void {
    this.channel.closeNow();
  }

  #finishIfDrained(): void {
    if (this.#ended === null && this.channel.size === 0) this.#emitter?.complete();
  }
}
