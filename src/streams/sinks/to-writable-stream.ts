/**
 * Write a publisher's items to a WHATWG `WritableStream`: demand follows the writer's
 * `desiredSize` (its queuing strategy), requesting again once `writer.ready` resolves. A stream
 * with highWaterMark 0 never has room and its `ready` never resolves, so while none of this
 * sink's writes is in the stream one item is requested (as WHATWG `pipeTo` writes to one): one
 * at a time, each once the one before it is written. On completion the stream is closed; an
 * upstream error aborts it; a failing write, or the stream erring, cancels upstream. A stream
 * closed (or closing) by another hand fails with ERR_INVALID_STATE; a locked one is an argument error.
 */
import type { Publisher } from '../types.js';
import { SinkBase } from './sink-base.js';
import { argPublisher, badArgument } from '../arguments.js';

class WritableStreamSink<T> extends SinkBase<T, void> {
  readonly #writer: WritableStreamDefaultWriter<T>;
  #outstanding = 0;
  /** This sink's writes not yet settled: the stream is idle when there are none. */
  #writing = 0;
  #waiting = false;
  /** Our close() was called: the stream's closing is ours. */
  #closing = false;

  constructor(stream: WritableStream<T>) {
    super();
    this.#writer = stream.getWriter();
    // A stream that errs while no write or ready is awaited (the publisher idle) would go unnoticed until the next item;
    // one that closes without our close() was closed (or closing) before we took its writer.
    this.#writer.closed.then(
      () => {
        if (!this.#closing) this.#failed(closedEarly(undefined));
      },
      (err: unknown) => this.#failed(err),
    );
  }

  protected started(): void {
    this.#refill();
  }

  protected item(item: T): void {
    this.#outstanding--;
    this.#writing++;
    let written: Promise<void>;
    try {
      written = this.#writer.write(item);
    } catch (err) {
      // Node 20 throws its own ERR_INTERNAL_ASSERTION for a write to a closed or closing stream, rather than rejecting.
      this.#failed(closedEarly(err));
      return;
    }
    written.then(
      () => {
        this.#writing--;
        this.#refill();
      },
      (err: unknown) => this.#failed(err),
    );
    this.#refill();
  }

  #refill(): void {
    if (this.#outstanding > 0 || this.subscription === undefined) return;
    const size = this.#writer.desiredSize; // null once the stream errs: its ready rejects then
    if (size !== null && size > 0) {
      this.#request(Math.ceil(size));
      return;
    }
    if (size === 0 && this.#writing === 0) {
      // No room, yet none of ours in the stream: highWaterMark 0, whose ready never resolves.
      this.#request(1);
      return;
    }
    if (this.#waiting) return;
    this.#waiting = true;
    this.#writer.ready.then(
      () => {
        this.#waiting = false;
        this.#refill();
      },
      (err: unknown) => this.#failed(err),
    );
  }

  #request(n: number): void {
    this.#outstanding = n;
    this.subscription?.request(n);
  }

  protected upstreamCompleted(): void {
    this.#closing = true;
    this.#writer.close().then(
      () => this.succeed(),
      (err: unknown) => this.fail(err),
    );
  }

  protected override upstreamFailed(error: unknown): void {
    this.#writer.abort(error).catch(() => undefined); // the error below is the one to report
    this.fail(error);
  }

  #failed(err: unknown): void {
    this.fail(err);
  }
}

/** The error of a stream closed by another hand before the publisher ended. */
function closedEarly(cause: unknown): Error {
  const message = 'toWritableStream: the WritableStream was closed before the stream ended; it takes no more writes';
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code: 'ERR_INVALID_STATE' });
}

export function toWritableStream<T>(source: Publisher<T>, stream: WritableStream<T>): Promise<void> {
  argPublisher('toWritableStream', source);
  if (stream === null || typeof stream !== 'object' || typeof (stream as Partial<WritableStream<T>>).getWriter !== 'function') {
    throw badArgument('toWritableStream', 'stream', 'a WritableStream', stream);
  }
  if (stream.locked) throw badArgument('toWritableStream', 'stream', 'an unlocked WritableStream (another writer holds it)', stream);
  const sink = new WritableStreamSink<T>(stream);
  source.subscribe(sink);
  return sink.promise;
}
