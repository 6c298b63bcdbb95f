/**
 * Puts blocked on a full buffer (overflow 'block'), the twin of WaitingTakes: the channel lets
 * a put block only while its buffer is full, and `admit` hands freed slots to blocked puts in
 * their waiting order (FIFO, or by priority with aging under the 'priority' discipline) before
 * any later put. Each blocked put settles once: admitted, expired (`queue_timeout`), aborted,
 * or rejected `closed`; a refused item stays with its caller.
 */
import type { Clock } from '../core/clock.js';
import { RejectedError } from '../core/errors.js';
import { abortError, rejectionError, waitDeadline } from '../core/gate-base.js';
import { SignalRegistry } from '../core/signal-waiters.js';
import { stallAware } from '../core/stall-aware.js';
import type { ChannelMeter } from './channel-meter.js';
import type { ItemStore } from './item-store.js';
import type { PutContext, PutResult } from './types.js';
import type { WaiterQueue } from './waiter-list.js';
import { PutWaiter } from './waiter.js';
import type { Waiter } from './waiter.js';

export class BlockedPuts<T> {
  readonly #queue: WaiterQueue<PutWaiter<T>>;
  /** The last admitted PutWaiter, reused: a producer that keeps meeting a full buffer allocates less. */
  #spare: PutWaiter<T> | undefined = undefined;
  /** One abort listener per distinct signal, whatever the number of puts blocked on it. */
  readonly #signals = new SignalRegistry<Waiter>((putters, signal) => this.#aborted(putters as PutWaiter<T>[], signal));

  /** The channel's clock, its deadline timers stall-aware: a put its slot freed during a stall of the loop is admitted, not expired (core/stall-aware.ts). */
  readonly clock: Clock;

  /**
   * @param maxWaitMs the channel's `maxPutWaitMs` (a put's own deadline may shorten it).
   * @param retryAfter the `retryAfterMs` of a `queue_timeout`, from the channel's drain rate.
   */
  constructor(
    readonly name: string,
    clock: Clock,
    readonly meter: ChannelMeter<T>,
    queue: WaiterQueue<PutWaiter<T>>,
    readonly maxWaitMs: number,
    readonly retryAfter: (now: number) => number,
  ) {
    this.#queue = queue;
    this.clock = stallAware(clock);
  }

  get size(): number {
    return this.#queue.size;
  }

  /** Block `item` until `admit` gives it a slot, its deadline passes, its signal aborts or the channel closes. */
  wait(item: T, ctx: PutContext | undefined): Promise<PutResult> {
    const max = this.maxWaitMs;
    const timed = max !== Infinity || (ctx !== undefined && (ctx.deadline !== undefined || ctx.maxWaitMs !== undefined));
    // The clock costs about as much as the rest of a blocked put: read it only when a deadline,
    // priority aging or an admit listener needs it (a put that blocked unobserved reports waitedMs 0).
    const now = timed || this.#queue.timed || this.meter.events.wants('admit') ? this.clock.now() : NaN;
    const deadline = !timed ? Infinity : ctx === undefined ? now + max : waitDeadline(ctx, now, max);
    if (deadline <= now) return Promise.reject(new RejectedError(this.meter.reject('queue_timeout', this.retryAfter(now), ctx)));
    const w = this.#spare ?? new PutWaiter<T>();
    this.#spare = undefined;
    w.item = item;
    w.priority = ctx?.priority ?? 0;
    w.key = ctx?.key;
    w.since = now;
    const promise = new Promise<PutResult>(w.executor);
    const signal = ctx?.signal;
    if (signal !== undefined) this.#signals.join(w, signal);
    this.#queue.push(w, now);
    if (deadline !== Infinity) w.timer = this.clock.setTimer(() => this.#expire(w), deadline - now);
    return promise;
  }

  /** Freed slots of `store` go to blocked puts, in their waiting order. */
  admit(store: ItemStore<T>, capacity: number): void {
    const queue = this.#queue;
    while (queue.size > 0 && store.size < capacity) {
      const w = queue.shift()!;
      w.detach(this.clock);
      const item = w.item as T;
      const { resolve, priority, key, since } = w;
      w.item = undefined;
      w.clear();
      this.#spare = w;
      store.push(item, priority);
      resolve('accepted');
      this.meter.admitted(key, priority, since);
    }
  }

  /** The channel closed: every blocked put is rejected `closed` (its item returns to its caller). */
  rejectAll(): void {
    for (const w of this.#queue.drain()) {
      w.detach(this.clock);
      w.reject(rejectionError(this.meter.reject('closed', Infinity, w)));
    }
  }

  #expire(w: PutWaiter<T>): void {
    if (!this.#queue.remove(w)) return;
    w.timer = undefined; // fired
    w.detach(this.clock);
    const now = this.clock.now();
    w.reject(new RejectedError(this.meter.reject('queue_timeout', this.retryAfter(now), w)));
  }

  /** `putters` (arrival order) are already off the signal's list; each still blocked is rejected once. */
  #aborted(putters: PutWaiter<T>[], signal: AbortSignal): void {
    for (const w of putters) {
      if (!this.#queue.remove(w)) continue;
      w.detach(this.clock);
      this.meter.aborted++;
      w.reject(abortError(this.name, signal));
    }
  }
}
