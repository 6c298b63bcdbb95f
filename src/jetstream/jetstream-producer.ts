/**
 * A JetStream producer bounded by publish acks: a publish resolves when the stream has
 * stored the message (its PubAck), at most `maxInFlight` are unacknowledged, at most
 * `maxWaiting` callers wait, and an optional lag-driven throttle goes first.
 */
import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connect, headers as natsHeaders } from '@nats-io/transport-node';
import { reach } from '../brokers/broker-error.js';
import type { BoundedProducerOptions } from '../brokers/bounded-producer.js';
import { BoundedProducer } from '../brokers/bounded-producer.js';
import { BrokerProducer } from '../brokers/broker-producer.js';
import { optionKeys, optKnownKeys } from '../core/index.js';
import { natsServers } from '../brokers/options.js';
import { argOptions } from '../core/option-keys.js';

export interface JetstreamProducerOptions extends BoundedProducerOptions {
  /** NATS server(s). @default '127.0.0.1:4222' */
  readonly servers?: string | readonly string[];
}

const JETSTREAM_PRODUCER_KEYS = optionKeys<JetstreamProducerOptions>({ maxInFlight: true, maxWaiting: true, throttle: true, servers: true });

export class JetstreamProducer extends BrokerProducer {
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;

  private constructor(bounded: BoundedProducer, nc: NatsConnection) {
    super(bounded);
    this.#nc = nc;
    this.#js = jetstream(nc);
  }

  static async open(options: JetstreamProducerOptions = {}): Promise<JetstreamProducer> {
    argOptions('JetstreamProducer', options);
    optKnownKeys('JetstreamProducer', options, JETSTREAM_PRODUCER_KEYS);
    const servers = natsServers(options.servers, '127.0.0.1:4222');
    const bounded = new BoundedProducer(`jetstream at nats://${Array.isArray(servers) ? servers.join(',') : servers}`, options, 'JetstreamProducer', JETSTREAM_PRODUCER_KEYS);
    const nc = await reach(bounded.name, () => connect({ servers }));
    return new JetstreamProducer(bounded, nc);
  }

  /** Resolves with the stream's PubAck; `msgID` lets the stream drop a re-sent duplicate. */
  publish(subject: string, body: Uint8Array | string, options: { readonly headers?: Readonly<Record<string, string>>; readonly msgID?: string } = {}, signal?: AbortSignal): Promise<PubAck> {
    return this.bounded(() => {
      const opts: { headers?: ReturnType<typeof natsHeaders>; msgID?: string } = {};
      if (options.headers !== undefined) {
        const h = natsHeaders();
        for (const [k, v] of Object.entries(options.headers)) h.set(k, v);
        opts.headers = h;
      }
      if (options.msgID !== undefined) opts.msgID = options.msgID;
      return this.#js.publish(subject, body, opts);
    }, signal);
  }

  protected async closeClient(): Promise<void> {
    await this.#nc.drain();
  }

  protected destroyClient(): void {
    this.#nc.close().catch(() => undefined);
  }
}
