/**
 * Write a publisher's items to a Node `Writable`, honouring its backpressure: while `write()`
 * answers false nothing more is requested, and requesting resumes on `'drain'`. At most
 * `batch` items are requested ahead. On completion the writable is ended (unless `end:
 * false`) and the promise resolves once it has finished; an upstream error destroys the
 * writable with it and rejects; a writable that fails or closes early cancels the upstream.
 */
import type { Writable } from 'node:stream';
import { optionKeys, optKnownKeys } from '../../core/option-keys.js';
import { optInt } from '../../core/options.js';
import type { Publisher, Subscription } from '../types.js';
import { SinkBase } from './sink-base.js';
import { argPublisher, badArgument } from '../arguments.js';

export interface ToWritableOptions {
  /** Items requested ahead of the writes. Integer >= 1. @default 16 */
  readonly batch?: number;
  /** End the writable when the publisher completes. @default true */
  readonly end?: boolean;
}

class WritableSink<T> extends SinkBase<T, void> {
  #outstanding = 0;
  #blocked = false;
  #finished = false;
  readonly #detach: (() => void)[] = [];

  constructor(
    readonly writable: Writable,
    readonly batch: number,
    readonly end: boolean,
  ) {
    super();
    const on = (event: string, fn: (...args: unknown[]) => void): void => {
      writable.on(event, fn);
      this.#detach.push(() => writable.off(event, fn));
    };
    on('drain', () => {
      this.#blocked = false;
      this.#refill();
    });
    on('error', (err) => this.#writableFailed(err));
    on('close', () => {
      if (!this.#finished) this.#writableFailed(Object.assign(new Error('toWritable: the writable closed before the stream ended'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    });
    on('finish', () => (this.#finished = true));
  }

  protected started(): void {
    const w = this.writable;
    if (w.destroyed || w.writableEnded) {
      // Its 'close' (or 'finish') is past: a write would fail without an 'error' event, and wait for a 'drain' that never comes.
      const ended = w.writableEnded;
      this.#writableFailed(w.errored ?? Object.assign(new Error(`toWritable: the writable was ${ended ? 'ended' : 'destroyed'} before the stream began`), { code: ended ? 'ERR_STREAM_WRITE_AFTER_END' : 'ERR_STREAM_DESTROYED' }));
      return;
    }
    this.#refill();
  }

  protected item(item: T): void {
    this.#outstanding--;
    if (!this.writable.write(item)) this.#blocked = true;
    else this.#refill();
  }

  #refill(): void {
    const s: Subscription | undefined = this.subscription;
    if (s === undefined || this.#blocked || this.#outstanding > 0) return;
    this.#outstanding = this.batch;
    s.request(this.batch);
  }

  protected upstreamCompleted(): void {
    if (!this.end) {
      this.#stop();
      this.succeed();
      return;
    }
    this.writable.end((err?: Error | null) => {
      this.#finished = true;
      this.#stop();
      if (err) this.fail(err);
      else this.succeed();
    });
  }

  protected override upstreamFailed(error: unknown): void {
    this.#stop();
    this.writable.on('error', ignore); // the error is reported by the promise; the writable's own 'error' must not become uncaught
    this.writable.destroy(error as Error);
    this.fail(error);
  }

  #writableFailed(err: unknown): void {
    this.#stop();
    this.fail(err); // cancels upstream
  }

  #stop(): void {
    for (const d of this.#detach.splice(0)) d();
  }
}

const TO_WRITABLE_KEYS = optionKeys<ToWritableOptions>({ batch: true, end: true });

export function toWritable<T>(source: Publisher<T>, writable: Writable, options?: ToWritableOptions): Promise<void> {
  argPublisher('toWritable', source);
  if (writable === null || typeof writable !== 'object' || typeof (writable as Partial<Writable>).write !== 'function') {
    throw badArgument('toWritable', 'writable', 'a Node Writable', writable);
  }
  optKnownKeys('toWritable', options, TO_WRITABLE_KEYS);
  const sink = new WritableSink<T>(writable, optInt('batch', options?.batch ?? 16, 1), options?.end ?? true);
  source.subscribe(sink);
  return sink.promise;
}

function ignore(): void {}
