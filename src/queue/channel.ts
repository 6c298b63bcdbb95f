/**
 * A bounded channel: producers `put`, consumers `take`; when the buffer is full, an overflow
 * strategy blocks, drops or rejects. Every drop is counted and reported; every pending put and
 * take settles, at the latest when the channel is closed.
 *
 * Invariants, restored before any user code (listeners, onDrop) runs:
 *  - size <= capacity;
 *  - takes wait only while the buffer is empty, so an arriving item goes to the first waiting take;
 *  - puts are blocked only while the buffer is full, and a freed slot goes to the first blocked
 *    put (FIFO, or by priority with aging under the 'priority' discipline) before any later put.
 */
import type { Clock } from '../core/clock.js';
import { ClosedError, RejectedError } from '../core/errors.js';
import type { GateListener } from '../core/events.js';
import { abortError, readContext, rejectionError } from '../core/gate-base.js';
import type { Rejection } from '../core/types.js';
import { BlockedPuts } from './blocked-puts.js';
import { optKnownKeys } from '../core/option-keys.js';
import { ChannelIterator, DONE, kCancel, kReceive, VALUES_KEYS } from './channel-iterator.js';
import type { ReceiveSource, ValuesOptions } from './channel-iterator.js';
import { DisciplineStore } from './discipline-store.js';
import { DrainEstimate } from './drain-estimate.js';
import { NONE } from './item-store.js';
import type { ItemStore, None } from './item-store.js';
import { ChannelMeter } from './channel-meter.js';
import { resolveChannelOptions } from './options.js';
import { PriorityPutters } from './priority-putters.js';
import type { ChannelOptions, DropPolicy, OverflowStrategy, ResolvedChannelOptions } from './options.js';
import { randomIndex, RingStore } from './ring-store.js';
import type { ChannelStats, PutContext, PutManyResult, PutResult, TakeContext, TakeResult } from './types.js';
import { PUT_KEYS, TAKE_KEYS } from './types.js';
import { argInt, channelBatches, putEach } from './channel-batches.js';
import { WaiterList } from './waiter-list.js';
import type { PutWaiter } from './waiter.js';
import { WaitingTakes } from './waiting-takes.js';

// Shared settled promises: the common put answers cost no allocation.
const ACCEPTED: Promise<PutResult> = Promise.resolve('accepted');
const DROPPED: Promise<PutResult> = Promise.resolve('dropped');
const EMPTY_NOW: TakeResult<never> = Object.freeze({ ok: false, done: false });
const ALL_DONE: TakeResult<never> = Object.freeze({ ok: false, done: true });

export class Channel<T> implements AsyncIterable<T>, ReceiveSource<T> {
  readonly name: string;
  readonly clock: Clock;
  readonly capacity: number;
  readonly overflow: OverflowStrategy;
  readonly #opts: ResolvedChannelOptions<T>;
  readonly #store: ItemStore<T>;
  readonly #putters: BlockedPuts<T>;
  readonly #takers: WaitingTakes<T>;
  readonly #meter: ChannelMeter<T>;
  readonly #drain: DrainEstimate;
  /** CoDel's evictions during a take, reported once the take is complete. */
  readonly #evicted: T[] = [];
  #reporting = false;
  #closed = false;
  #isDrained = false;
  #drained: Promise<void> | undefined;
  #resolveDrained: (() => void) | undefined;

  /** @throws InvalidOptionError naming the first invalid or contradictory option. */
  constructor(options: ChannelOptions<T>) {
    const o = resolveChannelOptions(options);
    this.#opts = o;
    this.name = o.name;
    this.clock = o.clock;
    this.capacity = o.capacity;
    this.overflow = o.overflow;
    this.#store =
      o.newDiscipline === undefined ? new RingStore<T>(o.capacity) : new DisciplineStore<T>(o.newDiscipline(), o.clock, (item) => this.#evicted.push(item));
    this.#drain = new DrainEstimate(o.clock.now());
    this.#meter = new ChannelMeter<T>(o.name, o.clock, o.onDrop);
    const putters = o.newPutterDiscipline === undefined ? new WaiterList<PutWaiter<T>>() : new PriorityPutters<T>(o.newPutterDiscipline<PutWaiter<T>>());
    this.#putters = new BlockedPuts<T>(o.name, o.clock, this.#meter, putters, o.maxPutWaitMs, (now) => this.#retryAfter(now));
    this.#takers = new WaitingTakes<T>(o.name, o.clock, this.#meter);
  }

  /** Items buffered now. */
  get size(): number {
    return this.#store.size;
  }

  /** True once `close()` or `closeNow()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves once the channel is closed and every buffered item was taken or returned by `closeNow()`. */
  get drained(): Promise<void> {
    if (this.#isDrained) return Promise.resolve();
    this.#drained ??= new Promise<void>((resolve) => (this.#resolveDrained = resolve));
    return this.#drained;
  }

  /**
   * Put an item. Resolves `'accepted'` or, under 'drop-newest' when full, `'dropped'`. Rejects with
   * RejectedError `queue_full` (overflow 'reject'; `retryAfterMs` from the drain rate),
   * RejectedError `queue_timeout` (a blocked put's deadline passed), ClosedError, AbortedError,
   * or InvalidArgumentError for a bad context. A rejected item stays with its caller.
   */
  put(item: T, ctx?: PutContext): Promise<PutResult> {
    const refused = this.#refuseContext(ctx, 'Channel.put', PUT_KEYS);
    if (refused !== undefined) return refused;
    if (this.#closed) return Promise.reject(rejectionError(this.#meter.reject('closed', Infinity, ctx)));
    let r: PutResult | 'full';
    try {
      r = this.#offer(item, ctx);
    } catch (err) {
      return Promise.reject(err as Error); // only a user-supplied `random` can throw here, before any change
    }
    if (r === 'accepted') return ACCEPTED;
    if (r === 'dropped') return DROPPED;
    if (this.overflow === 'reject') return Promise.reject(new RejectedError(this.#meter.reject('queue_full', this.#retryAfter(this.clock.now()), ctx)));
    return this.#putters.wait(item, ctx);
  }

  /**
   * Put without waiting: `'accepted'`, `'dropped'` (drop-newest), or a Rejection value —
   * `queue_full` when the buffer is full and the overflow is 'block' or 'reject', `closed` after
   * close. Only the context's `key` and `priority` matter. Throws InvalidArgumentError on a bad context.
   */
  tryPut(item: T, ctx?: PutContext): PutResult | Rejection {
    if (ctx !== undefined) readContext(ctx, 'Channel.tryPut', PUT_KEYS);
    if (this.#closed) return this.#meter.reject('closed', Infinity, ctx);
    const r = this.#offer(item, ctx);
    return r === 'full' ? this.#meter.reject('queue_full', this.#retryAfter(this.clock.now()), ctx) : r;
  }

  /**
   * The next item; waits while the channel is empty. Rejects with ClosedError once the channel
   * is closed and drained, RejectedError `queue_timeout` when the context's deadline / maxWaitMs
   * passes first, AbortedError on abort.
   */
  take(ctx?: TakeContext): Promise<T>;
  /**
   * Up to `max` items at once: resolves with 1..max items as soon as one is there (what is
   * buffered then, in order). Rejects like `take()`; `max` must be an integer >= 1.
   */
  take(max: number, ctx?: TakeContext): Promise<T[]>;
  take(a?: TakeContext | number, ctx?: TakeContext): Promise<T | T[]> {
    if (typeof a !== 'number') return this.#receive(undefined, a) as Promise<T>;
    const max = argInt('take(max)', a, 1);
    if (this.#store.size > 0) {
      // As take(ctx) does: a bad context or an aborted signal is refused even with items there.
      return this.#refuseContext(ctx, 'Channel.take', TAKE_KEYS) ?? Promise.resolve(this.#takeUpTo([], max));
    }
    return (this.#receive(undefined, ctx) as Promise<T>).then((first): T[] => this.#takeUpTo([first], max));
  }

  /**
   * Put several items in order, as `put` would one by one (blocking where `put` would block);
   * resolves with how many were accepted and dropped. Rejects with the refusal of the first
   * item that could not be placed (the channel closed mid-call included): the items before it
   * are in the channel, it and the rest stay with the caller. That error carries `accepted` and
   * `dropped`, the counts of the items before it (a `PutManyRefusal`), so the caller knows
   * where to resume: `items.slice(err.accepted + err.dropped)` were not placed.
   */
  putMany(items: Iterable<T>, ctx?: PutContext): Promise<PutManyResult> {
    return this.#refuseContext(ctx, 'Channel.putMany', PUT_KEYS) ?? putEach(items, (item) => (this.#closed ? 'full' : this.#offer(item, ctx)), (item) => this.put(item, ctx));
  }

  /** An async iterator of batches: each `next()` is a `take(max)`. Ends when the channel is closed and drained. */
  batches(max: number, options?: ValuesOptions): AsyncIterableIterator<T[], undefined> {
    // Checked here, not in the generator, whose body runs only at the first next().
    optKnownKeys('batches', options, VALUES_KEYS);
    return channelBatches(this, argInt('batches(max)', max, 1), options?.signal);
  }

  /** Take without waiting: `{ ok: true, value }`, or `{ ok: false, done }` with done true once closed and drained. */
  tryTake(): TakeResult<T> {
    const item = this.#store.size > 0 ? this.#takeNow() : NONE;
    const answer: TakeResult<T> = item !== NONE ? { ok: true, value: item } : this.#closed ? ALL_DONE : EMPTY_NOW;
    this.#afterTake();
    return answer;
  }

  /** An async iterator over the items; see ChannelIterator for what breaking out does (it does not close). */
  values(options?: ValuesOptions): ChannelIterator<T> {
    return new ChannelIterator<T>(this, options);
  }

  [Symbol.asyncIterator](): ChannelIterator<T> {
    return this.values();
  }

  /**
   * Stop accepting puts. Buffered items can still be taken; takes settle done once drained.
   * Blocked puts are rejected with ClosedError (their items return to their callers). Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#putters.rejectAll();
    if (this.#store.size === 0) this.#finish();
  }

  /**
   * Close and empty the channel at once: like `close()`, then every buffered item is removed
   * and returned (counted as `undelivered`, never dropped silently). Callable after `close()`.
   */
  closeNow(): T[] {
    this.close();
    const items = this.#store.drain();
    this.#meter.undelivered += items.length;
    this.#finish();
    return items;
  }

  /** Subscribe to admit / reject / drop events; returns the unsubscribe function. */
  on(listener: GateListener): () => void {
    return this.#meter.events.on(listener);
  }

  stats(): ChannelStats {
    const size = this.#store.size;
    const o = this.#opts;
    return this.#meter.snapshot(size, this.capacity, this.#closed, this.#putters.size, this.#takers.size, this.#drain, o.overflow, o.disciplineName);
  }

  /** @internal The async iterator's take. */
  [kReceive](owner: object, signal: AbortSignal | undefined): Promise<IteratorResult<T, undefined>> {
    return this.#receive(owner, signal === undefined ? undefined : { signal }) as Promise<IteratorResult<T, undefined>>;
  }

  /** @internal An iterator ended early: its pending takes settle done, so no item goes to it. */
  [kCancel](owner: object): void {
    this.#takers.cancel(owner);
  }

  /** A bad context or an already-aborted signal: the call's rejection, before anything is queued. */
  #refuseContext(ctx: TakeContext | PutContext | undefined, call: string, known: readonly string[]): Promise<never> | undefined {
    if (ctx === undefined) return undefined;
    try {
      readContext(ctx, call, known);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (ctx.signal?.aborted !== true) return undefined;
    this.#meter.aborted++;
    return Promise.reject(abortError(this.name, ctx.signal));
  }

  /** Admit an item if it fits or the overflow makes room; 'full' leaves blocking/rejecting to the caller. */
  #offer(item: T, ctx: PutContext | undefined): PutResult | 'full' {
    if (this.#takers.size > 0 && this.#takers.serve(item)) {
      // Takes wait only on an empty buffer, so handing over directly keeps the order.
      this.#meter.taken++;
      this.#meter.admitted(ctx?.key, ctx?.priority ?? 0, NaN);
      return 'accepted';
    }
    const store = this.#store;
    const size = store.size;
    if (size < this.capacity) {
      store.push(item, ctx?.priority ?? 0);
      if (size >= this.#meter.peak) this.#meter.peak = size + 1;
      this.#meter.admitted(ctx?.key, ctx?.priority ?? 0, NaN);
      return 'accepted';
    }
    let victim: T;
    let policy: DropPolicy;
    switch (this.overflow) {
      case 'drop-newest':
        this.#meter.drop(item, 'drop-newest');
        return 'dropped';
      case 'drop-oldest':
        victim = store.evictOldest();
        policy = 'drop-oldest';
        break;
      case 'drop-random':
        victim = store.evictAt(randomIndex(this.#opts.random(), size));
        policy = 'drop-random';
        break;
      case 'drop-latest':
        victim = store.evictAt(size - 1);
        policy = 'drop-latest';
        break;
      default:
        return 'full';
    }
    store.push(item, ctx?.priority ?? 0);
    this.#meter.admitted(ctx?.key, ctx?.priority ?? 0, NaN);
    this.#meter.drop(victim, policy);
    return 'accepted';
  }

  #receive(owner: object | undefined, ctx: TakeContext | undefined): Promise<unknown> {
    const refused = this.#refuseContext(ctx, 'Channel.take', TAKE_KEYS);
    if (refused !== undefined) return refused;
    if (this.#store.size > 0) {
      const item = this.#takeNow();
      if (item !== NONE) {
        this.#afterTake();
        return Promise.resolve(owner === undefined ? item : { value: item, done: false });
      }
    }
    let answer: Promise<unknown>;
    if (this.#closed) {
      answer = owner === undefined ? Promise.reject(new ClosedError(this.name)) : Promise.resolve(DONE);
    } else {
      answer = this.#takers.wait(owner, ctx);
    }
    this.#afterTake(); // CoDel may have emptied the buffer; report after the taker is queued
    return answer;
  }

  /** Remove the next item, refilling from blocked puts. NONE only when the buffer ends up empty. */
  #takeNow(): T | None {
    const store = this.#store;
    while (store.size > 0) {
      const item = store.shift();
      if (item !== NONE) this.#meter.taken++;
      if (this.#putters.size > 0) this.#putters.admit(store, this.capacity);
      if (item !== NONE) return item;
    }
    return NONE;
  }

  #takeUpTo(out: T[], max: number): T[] {
    while (out.length < max) {
      const item = this.#takeNow();
      if (item === NONE) break;
      out.push(item);
    }
    this.#afterTake();
    return out;
  }

  /** After any take: settle `drained`, then report CoDel's evictions (user code runs last). */
  #afterTake(): void {
    if (this.#closed && this.#store.size === 0) this.#finish();
    if (this.#evicted.length === 0 || this.#reporting) return;
    this.#reporting = true;
    try {
      // Re-entrant takes append here; the loop picks them up.
      for (let i = 0; i < this.#evicted.length; i++) this.#meter.drop(this.#evicted[i]!, 'codel');
    } finally {
      this.#evicted.length = 0;
      this.#reporting = false;
    }
  }

  /** Closed and empty: waiting takes settle done, `drained` resolves. */
  #finish(): void {
    this.#takers.finishAll();
    if (this.#isDrained) return;
    this.#isDrained = true;
    this.#resolveDrained?.();
  }

  #retryAfter(now: number): number {
    return this.#drain.retryAfterMs(now, this.#meter.taken);
  }
}
