/**
 * A Kafka producer that cannot outrun the cluster: every send waits for `acks` (all in-sync
 * replicas by default), kafkajs's own in-flight requests are bounded (`maxInFlightRequests`),
 * at most `maxInFlight` sends are unacknowledged here, at most `maxWaiting` wait, and an
 * optional lag-driven throttle goes first.
 */
import type { Producer, RecordMetadata } from 'kafkajs';
import { Kafka } from 'kafkajs';
import { InvalidOptionError, optInt, optionKeys, optKnownKeys } from '../core/index.js';
import type { KafkaAuthOptions } from './kafka-auth.js';
import { kafkaAuth } from './kafka-auth.js';
import { KafkaReach } from './kafka-connect.js';
import { hostList, nonEmpty } from '../brokers/options.js';
import type { BoundedProducerOptions } from '../brokers/bounded-producer.js';
import { BoundedProducer } from '../brokers/bounded-producer.js';
import { BrokerProducer } from '../brokers/broker-producer.js';
import { argOptions } from '../core/option-keys.js';

export interface KafkaProducerOptions extends BoundedProducerOptions, KafkaAuthOptions {
  readonly brokers: readonly string[];
  /** @default 'sluice' */
  readonly clientId?: string;
  /** -1 (all in-sync replicas), 0 or 1. @default -1 */
  readonly acks?: number;
  /** kafkajs requests in flight per broker connection. Integer >= 1. @default 5 */
  readonly maxInFlightRequests?: number;
  /**
   * How long open() tries to reach the brokers, ms; then it rejects with a BrokerUnavailableError
   * naming their address and the last connection error. Integer in [1, 2147483647]. @default 10000
   */
  readonly connectTimeoutMs?: number;
}

const KAFKA_PRODUCER_KEYS = optionKeys<KafkaProducerOptions>({ maxInFlight: true, maxWaiting: true, throttle: true, brokers: true, clientId: true, acks: true, maxInFlightRequests: true, connectTimeoutMs: true, ssl: true, sasl: true });

export class KafkaProducer extends BrokerProducer {
  readonly #producer: Producer;
  readonly #acks: number;

  private constructor(bounded: BoundedProducer, producer: Producer, acks: number) {
    super(bounded);
    this.#producer = producer;
    this.#acks = acks;
  }

  static async open(options: KafkaProducerOptions): Promise<KafkaProducer> {
    argOptions('KafkaProducer', options, false);
    optKnownKeys('KafkaProducer', options, KAFKA_PRODUCER_KEYS);
    const brokers = hostList('brokers', options.brokers);
    const clientId = nonEmpty('clientId', options.clientId ?? 'sluice');
    const bounded = new BoundedProducer(`kafka at ${brokers.join(',')}`, options, 'KafkaProducer', KAFKA_PRODUCER_KEYS);
    const acks = options.acks ?? -1;
    if (acks !== -1 && acks !== 0 && acks !== 1) throw new InvalidOptionError('acks', '-1, 0 or 1', acks);
    const maxInFlightRequests = optInt('maxInFlightRequests', options.maxInFlightRequests ?? 5, 1);
    const reach = new KafkaReach(bounded.name, options.connectTimeoutMs);
    const kafka = new Kafka({ clientId, brokers, ...kafkaAuth(options), ...reach.config(), retry: { retries: 6, initialRetryTime: 200 } });
    const producer = kafka.producer({ maxInFlightRequests, allowAutoTopicCreation: true });
    await reach.connect(
      () => producer.connect(),
      () => producer.disconnect(),
    );
    return new KafkaProducer(bounded, producer, acks);
  }

  /** Resolves once the cluster acknowledged the record (per `acks`). */
  send(topic: string, value: Uint8Array | string, options: { readonly key?: string; readonly headers?: Readonly<Record<string, string>> } = {}, signal?: AbortSignal): Promise<RecordMetadata[]> {
    return this.bounded(
      () =>
        this.#producer.send({
          topic,
          acks: this.#acks,
          messages: [{ value: typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength), ...(options.key !== undefined ? { key: options.key } : {}), ...(options.headers !== undefined ? { headers: { ...options.headers } } : {}) }],
        }),
      signal,
    );
  }

  protected async closeClient(): Promise<void> {
    await this.#producer.disconnect();
  }

  /** kafkajs has no way to end a connection at once: its disconnect goes on after close() settled. */
  protected destroyClient(): void {}
}
