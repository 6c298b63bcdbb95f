/**
 * Node `Readable` and WHATWG `ReadableStream` sources. Both are read only as demand allows:
 * the Readable in paused mode through `read()`, so its own highWaterMark holds the source
 * back; the ReadableStream through its reader, one `read()` per item. A Readable and a
 * ReadableStream can be read once: one subscriber each. Cancel destroys the Readable /
 * cancels the ReadableStream with the cancel's reason (the subscriber's error, or an AbortError).
 */
import type { Readable } from 'node:stream';
import { publisher } from '../publisher.js';
import type { Emitter, Source } from '../emission.js';
import type { Publisher } from '../types.js';
import { badArgument } from '../arguments.js';

class ReadableSource<T> implements Source<T> {
  #ended = false;
  readonly #detach: (() => void)[] = [];
  constructor(readonly readable: Readable) {}

  start(e: Emitter<T>): void {
    const r = this.readable;
    const on = (event: string, fn: (...args: unknown[]) => void): void => {
      r.on(event, fn);
      this.#detach.push(() => r.off(event, fn));
    };
    on('readable', () => e.wake());
    on('end', () => {
      this.#ended = true;
      this.#stop();
      e.complete();
    });
    on('error', (err) => {
      this.#stop();
      e.error(err);
    });
    on('close', () => {
      if (this.#ended) return;
      this.#stop();
      e.error(prematureClose());
    });
    if (r.readableEnded) {
      this.#stop();
      e.complete();
    } else if (r.destroyed) {
      // Destroyed before this subscription: its 'close' (and 'error') are past, and read() only answers null.
      this.#stop();
      e.error(r.errored ?? prematureClose());
    }
  }

  pull(e: Emitter<T>): void {
    while (e.demand > 0) {
      const chunk = this.readable.read() as T | null;
      if (chunk === null) return;
      e.next(chunk);
    }
  }

  cancel(): void {
    this.#stop();
    this.readable.destroy();
  }

  #stop(): void {
    for (const d of this.#detach.splice(0)) d();
  }
}

function prematureClose(): Error {
  return Object.assign(new Error('fromReadable: the stream closed before it ended'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}

export function fromReadable<T = Buffer>(readable: Readable): Publisher<T> {
  if (readable === null || typeof readable !== 'object' || typeof (readable as Partial<Readable>).read !== 'function') {
    throw badArgument('fromReadable', 'readable', 'a Node Readable', readable);
  }
  return publisher(() => new ReadableSource<T>(readable), { name: 'fromReadable', single: true });
}

class ReadableStreamSource<T> implements Source<T> {
  #reader: ReadableStreamDefaultReader<T> | undefined;
  constructor(readonly stream: ReadableStream<T>) {}
  start(): void {
    this.#reader = this.stream.getReader();
  }
  async pull(e: Emitter<T>): Promise<void> {
    while (e.demand > 0) {
      const reader = this.#reader;
      if (reader === undefined) return;
      const r = await reader.read();
      if (e.cancelled) return;
      if (r.done) {
        reader.releaseLock();
        this.#reader = undefined;
        e.complete();
        return;
      }
      e.next(r.value);
    }
  }
  cancel(reason: unknown): void {
    const reader = this.#reader;
    this.#reader = undefined;
    reader?.cancel(reason).catch(() => undefined); // the subscriber is gone; a failing cancel has no one to tell
  }
}

export function fromReadableStream<T>(stream: ReadableStream<T>): Publisher<T> {
  if (stream === null || typeof stream !== 'object' || typeof (stream as Partial<ReadableStream<T>>).getReader !== 'function') {
    throw badArgument('fromReadableStream', 'stream', 'a ReadableStream', stream);
  }
  return publisher(() => new ReadableStreamSource<T>(stream), { name: 'fromReadableStream', single: true });
}
