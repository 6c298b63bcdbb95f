/**
 * `mapAsync(fn, { concurrency, ordered })`: each item becomes `await fn(item)`, with at most
 * `concurrency` calls unfinished at once. `ordered: true` (the default) emits results in the
 * items' order (a finished result waits for the ones before it); `ordered: false` emits each
 * as it finishes. Upstream is asked only for what free slots can take, and only while
 * downstream has demand, so results held never exceed `concurrency`. A call that throws or
 * rejects fails the stream (upstream cancelled; later results are discarded).
 */
import { optionKeys, optKnownKeys } from '../../core/option-keys.js';
import { optInt } from '../../core/options.js';
import { publisher } from '../publisher.js';
import type { Emitter } from '../emission.js';
import type { StageMeter } from '../stage-meter.js';
import type { Operator, Publisher } from '../types.js';
import { checkFn } from './checks.js';
import { Stage } from './stage.js';

export interface MapAsyncOptions {
  /** Calls unfinished at once. Integer >= 1. @default 1 */
  readonly concurrency?: number;
  /** Emit in the items' order. @default true */
  readonly ordered?: boolean;
  /** Reports in-flight calls, processing latency and items of this stage. */
  readonly meter?: StageMeter;
}

interface Slot<R> {
  done: boolean;
  value: R | undefined;
}

class MapAsyncStage<T, R> extends Stage<T, R> {
  readonly #fn: (item: T, signal: AbortSignal) => R | PromiseLike<R>;
  readonly #concurrency: number;
  readonly #ordered: boolean;
  readonly #meter: StageMeter | undefined;
  /** Started and not yet emitted, in item order (ordered) or finished ones (unordered). */
  readonly #slots: Slot<R>[] = [];
  #running = 0;
  #failed = false;
  readonly #abort = new AbortController();

  constructor(upstream: Publisher<T>, fn: (item: T, signal: AbortSignal) => R | PromiseLike<R>, concurrency: number, ordered: boolean, meter: StageMeter | undefined) {
    super(upstream);
    this.#fn = fn;
    this.#concurrency = concurrency;
    this.#ordered = ordered;
    this.#meter = meter;
    if (meter !== undefined) meter.limit = concurrency;
  }

  pull(e: Emitter<R>): void {
    const slots = this.#slots;
    while (e.demand > 0 && slots.length > 0 && slots[0]!.done) {
      const s = slots.shift()!;
      this.#meter?.passed();
      e.next(s.value as R);
    }
    if (this.#meter !== undefined) this.#meter.demand = e.demand;
    if (this.upstreamDone) {
      if (this.#running === 0 && slots.length === 0 && !e.cancelled) e.complete();
      return;
    }
    // Held = running + finished-but-not-emitted + requested: never more than `concurrency`.
    if (e.demand > 0) this.request(this.#concurrency - this.#running - this.#doneCount() - this.requested);
  }

  /** Finished results waiting to be emitted (ordered mode: behind an unfinished one). */
  #doneCount(): number {
    let n = 0;
    for (const s of this.#slots) if (s.done) n++;
    return n;
  }

  protected handle(item: T): void {
    const slot: Slot<R> = { done: false, value: undefined };
    if (this.#ordered) this.#slots.push(slot);
    this.#running++;
    const startedAt = this.#meter?.begin() ?? NaN;
    let r: R | PromiseLike<R>;
    try {
      r = this.#fn(item, this.#abort.signal);
    } catch (err) {
      this.#finish(slot, startedAt, undefined, { err });
      return;
    }
    if (r !== null && typeof r === 'object' && typeof (r as PromiseLike<R>).then === 'function') {
      (r as PromiseLike<R>).then(
        (v) => this.#finish(slot, startedAt, v, undefined),
        (err: unknown) => this.#finish(slot, startedAt, undefined, { err }),
      );
    } else this.#finish(slot, startedAt, r as R, undefined);
  }

  #finish(slot: Slot<R>, startedAt: number, value: R | undefined, failure: { err: unknown } | undefined): void {
    this.#running--;
    this.#meter?.end(startedAt, failure === undefined ? 'success' : 'failure');
    if (this.#failed || this.e.cancelled) return;
    if (failure !== undefined) {
      this.#failed = true;
      this.fail(failure.err);
      return;
    }
    slot.done = true;
    slot.value = value;
    if (!this.#ordered) this.#slots.push(slot);
    this.e.wake();
  }

  protected override completed(): void {
    if (this.#running === 0 && this.#slots.length === 0) this.e.complete();
  }

  protected override cleanup(reason: unknown): void {
    this.#slots.length = 0;
    this.#abort.abort(reason);
  }
}

/** `fn` gets the item and a signal that aborts when the stream is cancelled or fails, with the cancel's reason or the error. */
const MAP_ASYNC_KEYS = optionKeys<MapAsyncOptions>({ concurrency: true, ordered: true, meter: true });

export function mapAsync<T, R>(fn: (item: T, signal: AbortSignal) => R | PromiseLike<R>, options?: MapAsyncOptions): Operator<T, R> {
  checkFn('mapAsync', fn);
  optKnownKeys('mapAsync', options, MAP_ASYNC_KEYS);
  const concurrency = optInt('concurrency', options?.concurrency ?? 1, 1);
  const ordered = options?.ordered ?? true;
  return (upstream) => publisher(() => new MapAsyncStage(upstream, fn, concurrency, ordered, options?.meter), { name: 'mapAsync' });
}
