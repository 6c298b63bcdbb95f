/**
 * `flatMap(fn, { concurrency, prefetch, ordered })`: each item becomes an inner publisher,
 * and their items are merged downstream. At most `concurrency` inner streams are subscribed
 * at once (the next item is requested from upstream only when one ends); each inner stream
 * is asked for at most `prefetch` items ahead of downstream, so what the stage holds is
 * bounded by concurrency × prefetch. `ordered: true` emits inner streams one after another in
 * the items' order (the others prefetch meanwhile); `ordered: false` (the default) emits
 * whatever is ready. An inner error fails the stream and cancels everything; so does an `fn`
 * that returns no Publisher, with an InvalidArgumentError naming `fn(item)`.
 *
 * `merge(publishers, { concurrency })` is flatMap over a list of publishers.
 */
import { optionKeys, optKnownKeys } from '../../core/option-keys.js';
import { optInt } from '../../core/options.js';
import { publisher } from '../publisher.js';
import type { Emitter } from '../emission.js';
import { checkSignalArg, checkSubscription } from '../rules.js';
import { fromArray } from '../sources/iterable.js';
import type { StageMeter } from '../stage-meter.js';
import type { Operator, Publisher, Subscriber, Subscription } from '../types.js';
import { checkFn } from './checks.js';
import { Stage } from './stage.js';
import { argPublisher, badArgument } from '../arguments.js';

export interface FlatMapOptions {
  /** Inner streams subscribed at once. Integer >= 1. @default 4 */
  readonly concurrency?: number;
  /** Items each inner stream may deliver ahead of downstream demand. Integer >= 1. @default 16 */
  readonly prefetch?: number;
  /** Emit inner streams whole, in the order of the items that made them. @default false */
  readonly ordered?: boolean;
  readonly meter?: StageMeter;
}

class Inner<R> implements Subscriber<R> {
  sub: Subscription | undefined;
  readonly queue: R[] = [];
  head = 0;
  requested = 0;
  done = false;
  constructor(readonly owner: FlatMapStage<unknown, R>) {}
  get size(): number {
    return this.queue.length - this.head;
  }
  shift(): R {
    const v = this.queue[this.head]!;
    this.queue[this.head++] = undefined as R;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    }
    return v;
  }
  refill(prefetch: number): void {
    const want = prefetch - this.size - this.requested;
    if (this.sub !== undefined && !this.done && want >= Math.max(1, prefetch >> 1)) {
      this.requested += want;
      this.sub.request(want);
    }
  }
  onSubscribe(s: Subscription): void {
    checkSubscription(s);
    if (this.sub !== undefined || this.done) {
      s.cancel();
      return;
    }
    this.sub = s;
    this.owner.innerReady(this);
  }
  onNext(item: R): void {
    checkSignalArg(item, 'onNext');
    this.requested--;
    this.queue.push(item);
    this.owner.innerReady(this);
  }
  onError(error: unknown): void {
    checkSignalArg(error, 'onError');
    this.done = true;
    this.sub = undefined;
    this.owner.innerFailed(error);
  }
  onComplete(): void {
    this.done = true;
    this.sub = undefined;
    this.owner.innerReady(this);
  }
  cancel(reason: unknown): void {
    this.done = true;
    const s = this.sub;
    this.sub = undefined;
    s?.cancel(reason);
  }
}

class FlatMapStage<T, R> extends Stage<T, R> {
  readonly #inners: Inner<R>[] = [];
  #next = 0;
  constructor(
    upstream: Publisher<T>,
    readonly fn: (item: T) => Publisher<R>,
    readonly concurrency: number,
    readonly prefetch: number,
    readonly ordered: boolean,
    readonly meter: StageMeter | undefined,
  ) {
    super(upstream);
    if (meter !== undefined) meter.limit = concurrency;
  }

  pull(e: Emitter<R>): void {
    const inners = this.#inners;
    let progress = true;
    while (e.demand > 0 && progress && inners.length > 0) {
      progress = false;
      const n = this.ordered ? 1 : inners.length;
      for (let k = 0; k < n && e.demand > 0 && inners.length > 0; k++) {
        const i = this.ordered ? 0 : this.#next++ % inners.length;
        const inner = inners[i]!;
        if (inner.size > 0) {
          this.meter?.passed();
          e.next(inner.shift());
          progress = true;
          inner.refill(this.prefetch);
        }
        if (inner.done && inner.size === 0) {
          inners.splice(i, 1);
          progress = true;
        }
      }
    }
    for (const inner of inners) inner.refill(this.prefetch);
    if (this.meter !== undefined) {
      this.meter.inFlight = inners.length;
      this.meter.queued = inners.reduce((a, x) => a + x.size, 0);
      this.meter.demand = e.demand;
    }
    if (e.cancelled) return;
    if (this.upstreamDone) {
      if (inners.length === 0) e.complete();
      return;
    }
    this.request(this.concurrency - inners.length - this.requested);
  }

  protected handle(item: T): void {
    let inner: Publisher<R>;
    try {
      inner = this.fn(item);
      argPublisher('flatMap', inner, 'fn(item)');
    } catch (err) {
      this.fail(err);
      return;
    }
    const sub = new Inner<R>(this as unknown as FlatMapStage<unknown, R>);
    this.#inners.push(sub);
    inner.subscribe(sub);
  }

  innerReady(_inner: Inner<R>): void {
    this.e.wake();
  }

  innerFailed(error: unknown): void {
    this.fail(error);
  }

  protected override completed(): void {
    if (this.#inners.length === 0) this.e.complete();
  }

  protected override cleanup(reason: unknown): void {
    for (const inner of this.#inners.splice(0)) inner.cancel(reason);
  }
}

const FLAT_MAP_KEYS = optionKeys<FlatMapOptions>({ concurrency: true, prefetch: true, ordered: true, meter: true });

export function flatMap<T, R>(fn: (item: T) => Publisher<R>, options?: FlatMapOptions): Operator<T, R> {
  checkFn('flatMap', fn);
  optKnownKeys('flatMap', options, FLAT_MAP_KEYS);
  const concurrency = optInt('concurrency', options?.concurrency ?? 4, 1);
  const prefetch = optInt('prefetch', options?.prefetch ?? 16, 1);
  return (upstream) => publisher(() => new FlatMapStage(upstream, fn, concurrency, prefetch, options?.ordered ?? false, options?.meter), { name: 'flatMap' });
}

/** Merge publishers, at most `concurrency` subscribed at once (the rest wait their turn). */
export function merge<T>(publishers: readonly Publisher<T>[], options?: FlatMapOptions): Publisher<T> {
  if (!Array.isArray(publishers)) throw badArgument('merge', 'publishers', 'an array of publishers', publishers);
  publishers.forEach((p, i) => argPublisher('merge', p, `publishers[${i}]`));
  return flatMap<Publisher<T>, T>((p) => p, options)(fromArray<Publisher<T>>(publishers));
}
