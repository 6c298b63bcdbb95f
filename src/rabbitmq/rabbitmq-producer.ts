/**
 * A RabbitMQ producer that cannot outrun the broker: publisher confirms (a publish resolves
 * when RabbitMQ has taken responsibility for the message, rejects on a nack), at most
 * `maxInFlight` unconfirmed, and `connection.blocked` honoured — while RabbitMQ says it is out
 * of memory or disk, publishes wait (holding their slot, so waiting is bounded too) until
 * `connection.unblocked`. A full socket buffer (`publish` returning false) waits for `drain`.
 */
import type { ChannelModel, ConfirmChannel, Options } from 'amqplib';
import amqp from 'amqplib';
import { reach, redactUrl } from '../brokers/broker-error.js';
import type { BoundedProducerOptions, ProducerStats } from '../brokers/bounded-producer.js';
import { BoundedProducer } from '../brokers/bounded-producer.js';
import { BrokerProducer, PRODUCER_CLOSE_MS } from '../brokers/broker-producer.js';
import { endConnection } from './end-connection.js';
import { optionKeys, optKnownKeys } from '../core/index.js';
import { nonEmpty } from '../brokers/options.js';
import { argOptions } from '../core/option-keys.js';

export interface RabbitmqProducerOptions extends BoundedProducerOptions {
  /** AMQP URL. @default 'amqp://127.0.0.1:5672' */
  readonly url?: string;
}

export interface RabbitmqProducerStats extends ProducerStats {
  /** RabbitMQ has blocked this connection (memory or disk alarm). */
  readonly blocked: boolean;
  /** Times the connection was blocked. */
  readonly blockedTimes: number;
}

const RABBITMQ_PRODUCER_KEYS = optionKeys<RabbitmqProducerOptions>({ maxInFlight: true, maxWaiting: true, throttle: true, url: true });

export class RabbitmqProducer extends BrokerProducer {
  readonly #conn: ChannelModel;
  readonly #ch: ConfirmChannel;
  #unblocked: Promise<void> | undefined;
  #release: (() => void) | undefined;
  #blockedTimes = 0;
  #drain: Promise<void> | undefined;
  #endDrain: (() => void) | undefined;

  private constructor(bounded: BoundedProducer, conn: ChannelModel, ch: ConfirmChannel) {
    super(bounded);
    this.#conn = conn;
    this.#ch = ch;
    conn.on('blocked', () => this.#block());
    conn.on('unblocked', () => this.#unblock());
    conn.on('error', () => undefined); // a lost connection fails the publishes in flight
  }

  static async open(options: RabbitmqProducerOptions = {}): Promise<RabbitmqProducer> {
    argOptions('RabbitmqProducer', options);
    optKnownKeys('RabbitmqProducer', options, RABBITMQ_PRODUCER_KEYS);
    const url = nonEmpty('url', options.url ?? 'amqp://127.0.0.1:5672');
    // Validate before connecting: a bad option is a bad option whether or not the broker is up.
    const bounded = new BoundedProducer(`rabbitmq at ${redactUrl(url)}`, options, 'RabbitmqProducer', RABBITMQ_PRODUCER_KEYS);
    const conn = await reach(bounded.name, () => amqp.connect(url));
    const ch = await conn.createConfirmChannel();
    return new RabbitmqProducer(bounded, conn, ch);
  }

  /** The amqplib connection (its `blocked`/`unblocked` events drive this producer). */
  get connection(): ChannelModel {
    return this.#conn;
  }

  get blocked(): boolean {
    return this.#unblocked !== undefined;
  }

  override stats(): RabbitmqProducerStats {
    return { ...super.stats(), blocked: this.blocked, blockedTimes: this.#blockedTimes };
  }

  /** The connection's `blocked` notification: publishes wait from now on. Also how tests drive it. */
  #block(): void {
    if (this.#unblocked !== undefined) return;
    this.#blockedTimes++;
    this.#unblocked = new Promise((r) => (this.#release = r));
  }

  #unblock(): void {
    const r = this.#release;
    this.#unblocked = this.#release = undefined;
    r?.();
  }

  /** Publish to a queue (through the default exchange); resolves on the broker's confirm. */
  sendToQueue(queue: string, body: Uint8Array, options: Options.Publish = {}, signal?: AbortSignal): Promise<void> {
    return this.publish('', queue, body, options, signal);
  }

  /** Publish to an exchange; resolves on the broker's confirm, rejects on its nack. */
  publish(exchange: string, routingKey: string, body: Uint8Array, options: Options.Publish = {}, signal?: AbortSignal): Promise<void> {
    return this.bounded(async () => {
      while (this.#unblocked !== undefined) await this.#unblocked;
      while (this.#drain !== undefined) await this.#drain;
      await new Promise<void>((resolve, reject) => {
        const ok = this.#ch.publish(exchange, routingKey, Buffer.from(body.buffer, body.byteOffset, body.byteLength), { persistent: true, ...options }, (err) => (err ? reject(unconfirmed(this.name, err)) : resolve()));
        if (!ok && this.#drain === undefined) {
          // Ended by 'drain', or by close(): a socket that never drains would hold the publish for ever.
          this.#drain = new Promise<void>((r) => {
            this.#endDrain = r;
            this.#ch.once('drain', r);
          }).finally(() => (this.#drain = this.#endDrain = undefined));
        }
      });
    }, signal);
  }

  protected async closeClient(): Promise<void> {
    this.#unblock(); // a publish waiting for it is refused (closed) or fails on the closed channel
    this.#endDrain?.();
    await this.#conn.close();
  }

  /** The socket destroyed with an error: amqplib fails the channel, and the publishes awaiting a confirm with it. */
  protected destroyClient(): void {
    endConnection(this.#conn, `${this.name}: closed, the broker did not answer the close within ${PRODUCER_CLOSE_MS} ms`);
  }
}

/** A publish without its confirm: the broker's nack, or the channel gone first (closed, or the connection lost), when it may or may not have been stored. */
function unconfirmed(name: string, err: unknown): Error {
  const nacked = err instanceof Error && err.message === 'message nacked';
  return new Error(nacked ? `${name}: the broker refused the message (nack)` : `${name}: the channel closed before the broker confirmed the message (it may or may not be stored)`, { cause: err });
}
