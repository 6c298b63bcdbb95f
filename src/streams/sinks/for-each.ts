/**
 * The callback sink: `forEach(publisher, fn, { concurrency, batch })` calls `fn` for every
 * item, at most `concurrency` calls unfinished at once (a call is unfinished until the promise
 * it returns settles), and resolves when the publisher completes and every call finished.
 *
 * Demand: `batch` items are requested at a time; a new request tops the window up to
 * W = max(batch, concurrency) whenever the items requested and not yet finished fall to
 * W − batch. So `batch: 1` asks for one item per item finished, `batch: 256` asks 256 at a time.
 * Items that arrive while `concurrency` calls run wait in a local queue of at most W.
 *
 * A call that throws or rejects fails the sink: the subscription is cancelled, calls already
 * running finish, then the promise rejects with that error (the first one). An abort of
 * `signal` does the same with its reason: it, too, waits for the running calls to settle.
 */
import { optionKeys, optKnownKeys } from '../../core/option-keys.js';
import { optInt } from '../../core/options.js';
import type { Publisher, Subscription } from '../types.js';
import { SinkBase } from './sink-base.js';
import { argPublisher, badArgument } from '../arguments.js';
import { deepFreeze } from '../../core/deep-freeze.js';

export interface ForEachOptions {
  /** Calls of `fn` unfinished at once. Integer >= 1. @default 1 */
  readonly concurrency?: number;
  /** Items requested at a time. Integer >= 1. @default 16 */
  readonly batch?: number;
  /**
   * Aborting cancels the subscription at once (no new call starts) and rejects with the signal's
   * reason once the calls already running have settled. A running call that never settles keeps
   * the promise pending: the signal does not reach `fn`, so give a long call its own bound (pass
   * the same signal into it, or wrap it in a timeout).
   */
  readonly signal?: AbortSignal;
}

export const FOR_EACH_DEFAULTS = deepFreeze({ concurrency: 1, batch: 16 } as const);

class ForEachSink<T> extends SinkBase<T, void> {
  readonly #fn: (item: T) => unknown;
  readonly #concurrency: number;
  readonly #batch: number;
  readonly #window: number;
  /** Requested and not yet received. */
  #outstanding = 0;
  #running = 0;
  readonly #queue: T[] = [];
  #completed = false;
  #error: { readonly error: unknown } | undefined;

  constructor(fn: (item: T) => unknown, concurrency: number, batch: number) {
    super();
    this.#fn = fn;
    this.#concurrency = concurrency;
    this.#batch = batch;
    this.#window = Math.max(batch, concurrency);
  }

  protected started(s: Subscription): void {
    this.#outstanding = this.#window;
    s.request(this.#window);
  }

  protected item(item: T): void {
    this.#outstanding--;
    if (this.#running >= this.#concurrency) {
      this.#queue.push(item);
      return;
    }
    this.#run(item);
    this.#topUp();
  }

  #run(item: T): void {
    let r: unknown;
    try {
      r = this.#fn(item);
    } catch (err) {
      this.#failed(err);
      return;
    }
    if (r === null || typeof r !== 'object' || typeof (r as PromiseLike<unknown>).then !== 'function') return;
    this.#running++;
    (r as PromiseLike<unknown>).then(
      () => this.#finished(),
      (err: unknown) => {
        this.#failed(err);
        this.#finished();
      },
    );
  }

  #finished(): void {
    this.#running--;
    while (this.#running < this.#concurrency && this.#queue.length > 0 && this.#error === undefined) this.#run(this.#queue.shift()!);
    this.#topUp();
    this.#settleIfDone();
  }

  #topUp(): void {
    const s = this.subscription;
    if (s === undefined || this.#error !== undefined) return;
    const held = this.#outstanding + this.#running + this.#queue.length;
    if (held <= this.#window - this.#batch) {
      const n = this.#window - held;
      this.#outstanding += n;
      s.request(n);
    }
  }

  #failed(err: unknown): void {
    if (this.#error !== undefined) return;
    this.#error = { error: err };
    this.#queue.length = 0;
    const s = this.subscription;
    this.subscription = undefined;
    s?.cancel(err);
    this.#settleIfDone();
  }

  abort(reason: unknown): void {
    this.#failed(reason);
  }

  #settleIfDone(): void {
    if (this.#running > 0) return;
    if (this.#error !== undefined) this.fail(this.#error.error);
    else if (this.#completed && this.#queue.length === 0) this.succeed();
  }

  protected upstreamCompleted(): void {
    this.#completed = true;
    this.#settleIfDone();
  }

  protected override upstreamFailed(error: unknown): void {
    this.#failed(error);
  }
}

const FOR_EACH_KEYS = optionKeys<ForEachOptions>({ concurrency: true, batch: true, signal: true });

/** Subscribe `fn` to `source`; resolves when the source completes and every call has finished. */
export function forEach<T>(source: Publisher<T>, fn: (item: T) => unknown, options?: ForEachOptions): Promise<void> {
  argPublisher('forEach', source);
  if (typeof fn !== 'function') throw badArgument('forEach', 'fn', 'a function', fn);
  optKnownKeys('forEach', options, FOR_EACH_KEYS);
  const concurrency = optInt('concurrency', options?.concurrency ?? FOR_EACH_DEFAULTS.concurrency, 1);
  const batch = optInt('batch', options?.batch ?? FOR_EACH_DEFAULTS.batch, 1);
  const sink = new ForEachSink<T>(fn, concurrency, batch);
  const signal = options?.signal;
  if (signal !== undefined) {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    const onAbort = (): void => sink.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const detach = (): void => signal.removeEventListener('abort', onAbort);
    sink.promise.then(detach, detach);
  }
  source.subscribe(sink);
  return sink.promise;
}
