/**
 * A Redis Streams producer: XADD, each awaited (Redis has no producer backpressure of its
 * own beyond its replies), at most `maxInFlight` unanswered, bounded waiting, and the
 * lag-driven throttle first — the group's XINFO lag is the signal that holds it back.
 */
import type { Redis } from 'ioredis';
import { redactUrl } from '../brokers/broker-error.js';
import type { BoundedProducerOptions } from '../brokers/bounded-producer.js';
import { BoundedProducer } from '../brokers/bounded-producer.js';
import { BrokerProducer } from '../brokers/broker-producer.js';
import { optionKeys, optKnownKeys } from '../core/index.js';
import { nonEmpty } from '../brokers/options.js';
import { connectRedis } from './connect-redis.js';
import { argOptions } from '../core/option-keys.js';

export interface RedisStreamsProducerOptions extends BoundedProducerOptions {
  /** Redis URL. @default 'redis://127.0.0.1:6379' */
  readonly url?: string;
  /** The entry field for the body. @default 'body' */
  readonly bodyField?: string;
}

const REDIS_STREAMS_PRODUCER_KEYS = optionKeys<RedisStreamsProducerOptions>({ maxInFlight: true, maxWaiting: true, throttle: true, url: true, bodyField: true });

export class RedisStreamsProducer extends BrokerProducer {
  readonly #client: Redis;
  readonly #bodyField: string;

  private constructor(bounded: BoundedProducer, client: Redis, bodyField: string) {
    super(bounded);
    this.#client = client;
    this.#bodyField = bodyField;
  }

  static async open(options: RedisStreamsProducerOptions = {}): Promise<RedisStreamsProducer> {
    argOptions('RedisStreamsProducer', options);
    optKnownKeys('RedisStreamsProducer', options, REDIS_STREAMS_PRODUCER_KEYS);
    const url = nonEmpty('url', options.url ?? 'redis://127.0.0.1:6379');
    const bodyField = nonEmpty('bodyField', options.bodyField ?? 'body');
    const bounded = new BoundedProducer(`redis-streams at ${redactUrl(url)}`, options, 'RedisStreamsProducer', REDIS_STREAMS_PRODUCER_KEYS);
    return new RedisStreamsProducer(bounded, await connectRedis(url, bounded.name), bodyField);
  }

  /** XADD; resolves with the entry id. */
  publish(stream: string, body: Uint8Array | string, headers: Readonly<Record<string, string>> = {}, signal?: AbortSignal): Promise<string> {
    return this.bounded(async () => {
      const fields: (string | Buffer)[] = [this.#bodyField, typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)];
      for (const [k, v] of Object.entries(headers)) fields.push(k, v);
      const id = await this.#client.xadd(stream, '*', ...fields);
      return String(id);
    }, signal);
  }

  protected async closeClient(): Promise<void> {
    await this.#client.quit();
  }

  protected destroyClient(): void {
    this.#client.disconnect();
  }
}
