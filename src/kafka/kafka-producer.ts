/**
 * A Kafka producer that cannot outrun the cluster: every send waits for `acks` (all in-sync
 * replicas by default), kafkajs's own in-flight requests are bounded (`maxInFlightRequests`),
 * at most `maxInFlight` sends are unacknowledged here, at most `maxWaiting` wait, and an
 * optional lag-driven throttle goes first.
 */
import type { Producer, RecordMetadata } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import { optInt } from '../core/index.js';
import { reach } from '../brokers/broker-error.js';
import { hostList } from '../brokers/options.js';
import type { BoundedProducerOptions, ProducerStats } from '../brokers/bounded-producer.js';
import { BoundedProducer } from '../brokers/bounded-producer.js';

export interface KafkaProducerOptions extends BoundedProducerOptions {
  readonly brokers: readonly string[];
  /** @default 'sluice' */
  readonly clientId?: string;
  /** -1 (all in-sync replicas), 0 or 1. @default -1 */
  readonly acks?: number;
  /** kafkajs requests in flight per broker connection. Integer >= 1. @default 5 */
  readonly maxInFlightRequests?: number;
}

export class KafkaProducer {
  readonly name: string;
  readonly #producer: Producer;
  readonly #bounded: BoundedProducer;
  readonly #acks: number;

  private constructor(name: string, producer: Producer, options: KafkaProducerOptions) {
    this.name = name;
    this.#producer = producer;
    this.#bounded = new BoundedProducer(name, options);
    this.#acks = options.acks ?? -1;
  }

  static async open(options: KafkaProducerOptions): Promise<KafkaProducer> {
    const brokers = hostList('brokers', options.brokers);
    const name = `kafka at ${brokers.join(',')}`;
    new BoundedProducer(name, options);
    const acks = options.acks ?? -1;
    if (acks !== -1 && acks !== 0 && acks !== 1) throw new TypeError(`acks: expected -1, 0 or 1, received ${String(acks)}`);
    const maxInFlightRequests = optInt('maxInFlightRequests', options.maxInFlightRequests ?? 5, 1);
    const kafka = new Kafka({ clientId: options.clientId ?? 'sluice', brokers, logLevel: logLevel.NOTHING, retry: { retries: 6, initialRetryTime: 200 }, connectionTimeout: 3000 });
    const producer = kafka.producer({ maxInFlightRequests, allowAutoTopicCreation: true });
    await reach(name, () => producer.connect());
    return new KafkaProducer(name, producer, options);
  }

  stats(): ProducerStats {
    return this.#bounded.stats();
  }

  /** Resolves once the cluster acknowledged the record (per `acks`). */
  send(topic: string, value: Uint8Array | string, options: { readonly key?: string; readonly headers?: Readonly<Record<string, string>> } = {}, signal?: AbortSignal): Promise<RecordMetadata[]> {
    return this.#bounded.run(
      () =>
        this.#producer.send({
          topic,
          acks: this.#acks,
          messages: [{ value: typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength), ...(options.key !== undefined ? { key: options.key } : {}), ...(options.headers !== undefined ? { headers: { ...options.headers } } : {}) }],
        }),
      signal,
    );
  }

  async close(): Promise<void> {
    await this.#producer.disconnect().catch(() => undefined);
  }
}
