/**
 * What every broker producer is: a name — the broker and its address, as a
 * BrokerUnavailableError names it — and one BoundedProducer that each publish goes through,
 * whose counts are its stats. A producer's `open` builds the BoundedProducer before it
 * connects (a bad option is refused whether or not the broker is up) and hands it here.
 */
import type { BoundedProducer, ProducerStats } from './bounded-producer.js';

export abstract class BrokerProducer {
  /** e.g. "rabbitmq at amqp://127.0.0.1:5672". */
  readonly name: string;
  readonly #bounded: BoundedProducer;

  protected constructor(bounded: BoundedProducer) {
    this.name = bounded.name;
    this.#bounded = bounded;
  }

  stats(): ProducerStats {
    return this.#bounded.stats();
  }

  /** Throttle, then an in-flight slot, then `send` (which resolves on the broker's acknowledgement). */
  protected bounded<T>(send: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    return this.#bounded.run(send, signal);
  }
}
