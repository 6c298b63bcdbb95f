/**
 * What every broker producer is: a name — the broker and its address, as a
 * BrokerUnavailableError names it — and one BoundedProducer that each publish goes through,
 * whose counts are its stats. A producer's `open` builds the BoundedProducer before it
 * connects (a bad option is refused whether or not the broker is up) and hands it here.
 *
 * close() is the same for all: one close however often or concurrently it is called, publishes
 * refused from its first call (a ClosedError), the client's own close given PRODUCER_CLOSE_MS to
 * end gracefully (publishes in flight may still get their acks), then the connection ended at
 * once — a broker that took the connection and answers nothing no longer holds close() for ever,
 * nor the publishes in flight, which then fail.
 */
import { ClosedError } from '../core/index.js';
import type { BoundedProducer, ProducerStats } from './bounded-producer.js';
import { CLOSE_GRACE_MS, closeWithin } from './bounded-close.js';

/** How long close() waits for the client's graceful close before it ends the connection. */
export const PRODUCER_CLOSE_MS = CLOSE_GRACE_MS;

export abstract class BrokerProducer {
  /** e.g. "rabbitmq at amqp://127.0.0.1:5672". */
  readonly name: string;
  readonly #bounded: BoundedProducer;
  #closing: Promise<void> | undefined;

  protected constructor(bounded: BoundedProducer) {
    this.name = bounded.name;
    this.#bounded = bounded;
  }

  stats(): ProducerStats {
    return this.#bounded.stats();
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Refuses publishes from now on (ClosedError), lets the client close gracefully for at most
   * PRODUCER_CLOSE_MS, then ends its connection. Never rejects; every call, twice or at once,
   * gets the same promise.
   */
  close(): Promise<void> {
    return (this.#closing ??= this.#close());
  }

  #close(): Promise<void> {
    return closeWithin(
      () => this.closeClient(),
      () => this.destroyClient(),
    );
  }

  /** The client's graceful close (quit, drain, disconnect). May reject or never settle: close() bounds it. */
  protected abstract closeClient(): Promise<void>;

  /** Ends the connection now, without waiting for the broker (what is unanswered fails). */
  protected abstract destroyClient(): void;

  /** Throttle, then an in-flight slot, then `send` (which resolves on the broker's acknowledgement); a ClosedError once closed. */
  protected bounded<T>(send: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (this.#closing !== undefined) return Promise.reject(new ClosedError(this.name));
    // A publish that waited for its slot while the producer closed is not sent.
    return this.#bounded.run(() => (this.#closing !== undefined ? Promise.reject(new ClosedError(this.name)) : send()), signal);
  }
}
