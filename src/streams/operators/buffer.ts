/**
 * `buffer(capacity, overflow)`: a bounded buffer between a stage and its downstream, kept in
 * a Channel so every drop is counted (`stats().droppedBy`), reported to `onDrop` and emitted
 * as a `drop` event (`kind: 'channel'`, `gate`: the buffer's name).
 *
 *  - `'block'`: upstream is asked for at most `capacity` items beyond what downstream took —
 *    a prefetch. Nothing is dropped; a slow downstream slows the source.
 *  - `'drop-newest' | 'drop-oldest' | 'drop-latest' | 'error'`: upstream is asked for
 *    everything (unbounded demand) and runs at its own pace; what does not fit in `capacity`
 *    is dropped by the policy, or fails the stream with RejectedError `queue_full` ('error').
 *
 * An upstream error is passed on at once (§4.2); items still buffered are counted as
 * `undelivered` in the channel's stats.
 */
import { RejectedError, StreamRuleError } from '../../core/errors.js';
import { optionKeys, optKnownKeys } from '../../core/option-keys.js';
import { optInt, optOneOf } from '../../core/options.js';
import { Channel } from '../../queue/channel.js';
import type { DropPolicy } from '../../queue/options.js';
import { publisher } from '../publisher.js';
import type { Emitter, Source } from '../emission.js';
import { checkSignalArg, checkSubscription, UNBOUNDED } from '../rules.js';
import type { StageMeter } from '../stage-meter.js';
import type { HotOverflow } from '../sources/buffered.js';
import { HOT_OVERFLOWS } from '../sources/buffered.js';
import type { Operator, Publisher, Subscriber, Subscription } from '../types.js';
import { deepFreeze } from '../../core/deep-freeze.js';

export type BufferOverflow = 'block' | HotOverflow;
export const BUFFER_OVERFLOWS: readonly BufferOverflow[] = deepFreeze(['block', ...HOT_OVERFLOWS]);

export interface BufferOptions<T> {
  /** Called for every dropped item, with the policy. */
  readonly onDrop?: (item: T, policy: DropPolicy) => void;
  /** Name of the buffer (its channel's name in stats and events). @default 'buffer' */
  readonly name?: string;
  /** Reports depth, items and drops of this stage. */
  readonly meter?: StageMeter;
  /** Receives the buffer's Channel on each subscription (for its stats()). */
  readonly onChannel?: (channel: Channel<T>) => void;
}

class BufferStage<T> implements Source<T>, Subscriber<T> {
  readonly #upstream: Publisher<T>;
  readonly #capacity: number;
  readonly #block: boolean;
  readonly #meter: StageMeter | undefined;
  readonly channel: Channel<T>;
  #up: Subscription | undefined;
  #e!: Emitter<T>;
  #requested = 0;
  #upstreamDone = false;
  #subscribed = false;

  constructor(upstream: Publisher<T>, capacity: number, overflow: BufferOverflow, options: BufferOptions<T> | undefined) {
    this.#upstream = upstream;
    this.#capacity = capacity;
    this.#block = overflow === 'block';
    const meter = (this.#meter = options?.meter);
    const onDrop = options?.onDrop;
    if (meter !== undefined) meter.limit = capacity;
    this.channel = new Channel<T>({
      capacity,
      overflow: overflow === 'block' || overflow === 'error' ? 'reject' : overflow,
      name: options?.name ?? 'buffer',
      ...(onDrop === undefined && meter === undefined
        ? {}
        : {
            onDrop: (item: T, policy: DropPolicy) => {
              meter?.dropped(policy, 1, false); // the channel emits the event; the meter only counts
              onDrop?.(item, policy);
            },
          }),
    });
    options?.onChannel?.(this.channel);
  }

  start(e: Emitter<T>): void {
    this.#e = e;
    this.#upstream.subscribe(this);
  }

  onSubscribe(subscription: Subscription): void {
    const s = checkSubscription(subscription);
    if (this.#subscribed || this.#e.cancelled) {
      s.cancel(); // §2.5
      return;
    }
    this.#subscribed = true;
    this.#up = s;
    if (!this.#block) {
      this.#requested = UNBOUNDED;
      s.request(UNBOUNDED);
    } else this.#refill();
  }

  onNext(item: T): void {
    checkSignalArg(item, 'onNext');
    if (this.#requested !== UNBOUNDED) this.#requested--;
    const e = this.#e;
    if (e.demand > 0 && this.channel.size === 0) {
      this.#meter?.passed();
      e.next(item);
    } else {
      const r = this.channel.tryPut(item);
      if (typeof r === 'object') {
        const err = this.#block ? new StreamRuleError('1.1', `${this.channel.name}: upstream sent more than was requested`) : new RejectedError(r);
        this.#fail(err);
        return;
      }
    }
    if (this.#meter !== undefined) this.#meter.queued = this.channel.size;
    this.#refill();
  }

  pull(e: Emitter<T>): void {
    const ch = this.channel;
    while (e.demand > 0) {
      const r = ch.tryTake();
      if (!r.ok) break;
      this.#meter?.passed();
      e.next(r.value);
    }
    if (this.#meter !== undefined) {
      this.#meter.queued = ch.size;
      this.#meter.demand = e.demand;
    }
    if (this.#upstreamDone && ch.size === 0) e.complete();
    else this.#refill();
  }

  /** Block mode: keep upstream's outstanding demand plus the buffer at capacity, topping up by at least half. */
  #refill(): void {
    const up = this.#up;
    if (!this.#block || up === undefined) return;
    const want = this.#capacity - this.channel.size - this.#requested;
    if (want >= Math.max(1, this.#capacity >> 1) || (want > 0 && this.#requested === 0)) {
      this.#requested += want;
      up.request(want);
    }
  }

  onError(error: unknown): void {
    checkSignalArg(error, 'onError');
    this.#up = undefined;
    this.channel.closeNow();
    this.#e.error(error);
  }

  onComplete(): void {
    this.#up = undefined;
    this.#upstreamDone = true;
    if (this.channel.size === 0) this.#e.complete();
  }

  cancel(reason?: unknown): void {
    const up = this.#up;
    this.#up = undefined;
    up?.cancel(reason);
    this.channel.closeNow();
  }

  #fail(error: unknown): void {
    this.cancel(error);
    this.#e.error(error);
  }
}

const BUFFER_KEYS = optionKeys<BufferOptions<unknown>>({ onDrop: true, name: true, meter: true, onChannel: true });

export function buffer<T>(capacity: number, overflow: BufferOverflow = 'block', options?: BufferOptions<T>): Operator<T, T> {
  const n = optInt('buffer(capacity)', capacity, 1, Number.MAX_SAFE_INTEGER);
  const o = optOneOf('buffer(overflow)', overflow, BUFFER_OVERFLOWS);
  optKnownKeys('buffer', options, BUFFER_KEYS);
  return (upstream) => publisher(() => new BufferStage(upstream, n, o, options), { name: 'buffer' });
}
