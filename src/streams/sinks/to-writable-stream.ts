/**
 * Write a publisher's items to a WHATWG `WritableStream`: demand follows the writer's
 * `desiredSize` (its queuing strategy), requesting again once `writer.ready` resolves. On
 * completion the stream is closed; an upstream error aborts it; a failing write cancels upstream.
 */
import type { Publisher, Subscription } from '../types.js';
import { SinkBase } from './sink-base.js';

class WritableStreamSink<T> extends SinkBase<T, void> {
  readonly #writer: WritableStreamDefaultWriter<T>;
  #outstanding = 0;
  #waiting = false;

  constructor(stream: WritableStream<T>) {
    super();
    this.#writer = stream.getWriter();
  }

  protected started(): void {
    this.#refill();
  }

  protected item(item: T): void {
    this.#outstanding--;
    this.#writer.write(item).catch((err: unknown) => this.#failed(err));
    this.#refill();
  }

  #refill(): void {
    if (this.#outstanding > 0 || this.#waiting || this.subscription === undefined) return;
    const size = this.#writer.desiredSize ?? 0;
    if (size > 0) {
      this.#request(Math.ceil(size));
      return;
    }
    this.#waiting = true;
    this.#writer.ready.then(
      () => {
        this.#waiting = false;
        const s: Subscription | undefined = this.subscription;
        if (s !== undefined && this.#outstanding === 0) this.#request(Math.max(1, Math.ceil(this.#writer.desiredSize ?? 1)));
      },
      (err: unknown) => this.#failed(err),
    );
  }

  #request(n: number): void {
    this.#outstanding = n;
    this.subscription?.request(n);
  }

  protected upstreamCompleted(): void {
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

export function toWritableStream<T>(source: Publisher<T>, stream: WritableStream<T>): Promise<void> {
  if (stream === null || typeof stream !== 'object' || typeof (stream as Partial<WritableStream<T>>).getWriter !== 'function') {
    throw new TypeError(`toWritableStream: expected a WritableStream, received ${stream === null ? 'null' : typeof stream}`);
  }
  const sink = new WritableStreamSink<T>(stream);
  source.subscribe(sink);
  return sink.promise;
}
