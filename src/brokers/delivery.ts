/**
 * One message taken from a broker, handed to a handler. It is settled exactly once, after
 * processing, never at delivery: `ack` (done), `retry` (give it back for another attempt after
 * a delay) or `deadLetter` (park it with the reason). `extend` tells the broker the work goes
 * on (JetStream in-progress, SQS visibility, RabbitMQ and Redis need nothing). A second
 * settlement is a no-op that resolves, never a double ack.
 */

/** The broker a delivery came from. */
export type BrokerKind = 'rabbitmq' | 'jetstream' | 'redis-streams' | 'sqs' | 'kafka';

/** How a delivery ended. */
export type Settlement = 'ack' | 'retry' | 'dead-letter' | 'release';

export interface Delivery {
  readonly broker: BrokerKind;
  /** The queue, stream, or topic-partition it came from. */
  readonly source: string;
  /** Broker id: delivery tag, stream sequence, entry id, message id, offset. */
  readonly id: string;
  readonly body: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  /** 1 on the first delivery; counted by the broker where it can (JetStream, SQS, Redis, RabbitMQ header). */
  readonly attempt: number;
  /** How it was settled, or undefined while unsettled. */
  readonly settled: Settlement | undefined;
  ack(): Promise<void>;
  /** Give it back to the broker for another attempt, not before `delayMs`. `reason` is kept where the broker can carry it. */
  retry(delayMs: number, reason: string): Promise<void>;
  /** Park it for a person: the broker's dead-letter destination, with the reason and the attempt count. */
  deadLetter(reason: string): Promise<void>;
  /** The work goes on: keep the broker from redelivering it elsewhere. */
  extend(): Promise<void>;
  /**
   * Give it back unhandled (a consumer stopping before a handler took it): redeliverable now,
   * not after the broker's timeout — RabbitMQ `basic.nack` with requeue (the redelivery is counted:
   * a quorum queue's `x-delivery-count`, a copy for a classic queue's),
   * JetStream `nak()`, Redis Streams an idle time any claim takes, SQS visibility 0, Kafka: left
   * uncommitted.
   */
  release(): Promise<void>;
}

/** What a broker's delivery is made of, read from its message once. */
export type DeliveryFields = Pick<Delivery, 'broker' | 'source' | 'id' | 'body' | 'headers' | 'attempt'>;

/** The settle-once bookkeeping every broker's delivery shares; subclasses say how. */
export abstract class DeliveryBase implements Delivery {
  readonly broker: BrokerKind;
  readonly source: string;
  readonly id: string;
  readonly body: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  readonly attempt: number;
  #settled: Settlement | undefined;
  #onSettle: ((d: Delivery, how: Settlement) => void) | undefined;

  constructor(fields: DeliveryFields, onSettle?: (d: Delivery, how: Settlement) => void) {
    this.broker = fields.broker;
    this.source = fields.source;
    this.id = fields.id;
    this.body = fields.body;
    this.headers = fields.headers;
    this.attempt = fields.attempt;
    this.#onSettle = onSettle;
  }

  get settled(): Settlement | undefined {
    return this.#settled;
  }

  ack(): Promise<void> {
    return this.#settle('ack', () => this.doAck());
  }

  retry(delayMs: number, reason: string): Promise<void> {
    return this.#settle('retry', () => this.doRetry(Math.max(0, delayMs), reason));
  }

  deadLetter(reason: string): Promise<void> {
    return this.#settle('dead-letter', () => this.doDeadLetter(reason));
  }

  extend(): Promise<void> {
    return this.#settled === undefined ? this.doExtend() : Promise.resolve();
  }

  release(): Promise<void> {
    return this.#settle('release', () => this.doRelease());
  }

  protected abstract doAck(): Promise<void>;
  protected abstract doRetry(delayMs: number, reason: string): Promise<void>;
  protected abstract doDeadLetter(reason: string): Promise<void>;
  protected doExtend(): Promise<void> {
    return Promise.resolve();
  }
  /** By default a retry without delay; a broker that can give it back without counting an attempt overrides it. */
  protected doRelease(): Promise<void> {
    return this.doRetry(0, 'released unhandled: the consumer stopped');
  }

  async #settle(how: Settlement, run: () => Promise<void>): Promise<void> {
    if (this.#settled !== undefined) return;
    this.#settled = how;
    try {
      await run();
    } finally {
      const cb = this.#onSettle;
      this.#onSettle = undefined;
      cb?.(this, how);
    }
  }
}

/** Headers as plain strings (broker header tables carry numbers, buffers, arrays). */
export function stringHeaders(raw: Readonly<Record<string, unknown>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined || v === null) continue;
    out[k] = typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : typeof v === 'object' ? JSON.stringify(v) : String(v as number);
  }
  return out;
}
