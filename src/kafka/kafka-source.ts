/**
 * A Kafka consumer group as a BrokerSource (kafkajs). The fetch loop only moves messages
 * into a bounded buffer per partition and returns, so it never waits for a handler:
 * heartbeats go on however slow the processing, and the loop is back within the session and
 * rebalance timeouts (the max poll interval of the Java client) — a slow handler never
 * triggers a rebalance. When a partition's buffer holds `partitionBuffer` messages, that
 * partition is paused (the rest of its batch stays unread, fetched again on resume); when the
 * pipeline's demand has drained it below half, it is resumed. Offsets are committed only
 * after processing, per partition at the lowest unfinished offset (OffsetTracker), every
 * `commitIntervalMs` and on close. A retry re-delivers in this process after the delay,
 * uncommitted meanwhile; a dead letter is produced to `<topic>.dead` with the reason.
 */
import type { Admin, Consumer, EachBatchPayload, KafkaMessage, Producer } from 'kafkajs';
import { Kafka, logLevel } from 'kafkajs';
import { optInt, optNumber } from '../core/index.js';
import { BrokerUnavailableError } from '../brokers/broker-error.js';
import { hostList, nonEmpty } from '../brokers/options.js';
import type { BrokerSource } from '../brokers/source.js';
import type { Delivery } from '../brokers/delivery.js';
import { DeliveryBase, stringHeaders } from '../brokers/delivery.js';
import { OffsetTracker } from './offset-tracker.js';

export interface KafkaSourceOptions {
  /** Bootstrap brokers, "host:port". Non-empty. */
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly groupId: string;
  /** @default 'sluice' */
  readonly clientId?: string;
  /** Messages held per partition before it is paused. Integer >= 1. @default 64 */
  readonly partitionBuffer?: number;
  /** Between offset commits, ms. > 0. @default 1000 */
  readonly commitIntervalMs?: number;
  /** Group session timeout, ms. @default 30000 */
  readonly sessionTimeoutMs?: number;
  /** Heartbeat interval, ms (independent of processing). @default 3000 */
  readonly heartbeatIntervalMs?: number;
  /** Read from the start of the topic when the group has no committed offset. @default true */
  readonly fromBeginning?: boolean;
  /** Dead-letter topic. @default `${topic}.dead` */
  readonly deadLetterTopic?: string;
}

interface Held {
  readonly partition: number;
  readonly message: KafkaMessage;
  attempt: number;
  readonly generation: number;
}

class KafkaDelivery extends DeliveryBase {
  readonly broker = 'kafka' as const;
  readonly source: string;
  readonly id: string;
  readonly body: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  readonly attempt: number;

  constructor(
    private readonly held: Held,
    private readonly owner: KafkaSource,
  ) {
    super();
    this.source = `${owner.topic}/${held.partition}`;
    this.id = `${held.partition}:${held.message.offset}`;
    this.body = held.message.value ?? Buffer.alloc(0);
    this.headers = stringHeaders(held.message.headers as Record<string, unknown> | undefined);
    this.attempt = held.attempt;
  }

  protected doAck(): Promise<void> {
    this.owner.finished(this.held);
    return Promise.resolve();
  }

  protected async doRetry(delayMs: number): Promise<void> {
    await new Promise((r) => setTimeout(r, delayMs));
    this.owner.redeliver(this.held);
  }

  protected async doDeadLetter(reason: string): Promise<void> {
    await this.owner.produceDead(this.held, reason);
    this.owner.finished(this.held);
  }
}

export class KafkaSource implements BrokerSource {
  readonly name: string;
  readonly topic: string;
  readonly groupId: string;
  readonly deadLetterTopic: string;
  readonly #consumer: Consumer;
  readonly #producer: Producer;
  readonly #admin: Admin;
  readonly #cap: number;
  readonly #buffers = new Map<number, Held[]>();
  readonly #trackers = new Map<number, OffsetTracker>();
  readonly #paused = new Set<number>();
  #generation = 0;
  #wake: (() => void) | undefined;
  #failure: Error | undefined;
  #commitTimer: ReturnType<typeof setInterval> | undefined;
  #committing: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(name: string, o: { topic: string; groupId: string; dead: string; cap: number }, consumer: Consumer, producer: Producer, admin: Admin) {
    this.name = name;
    this.topic = o.topic;
    this.groupId = o.groupId;
    this.deadLetterTopic = o.dead;
    this.#cap = o.cap;
    this.#consumer = consumer;
    this.#producer = producer;
    this.#admin = admin;
  }

  static async open(options: KafkaSourceOptions): Promise<KafkaSource> {
    const brokers = hostList('brokers', options.brokers);
    const topic = nonEmpty('topic', options.topic);
    const groupId = nonEmpty('groupId', options.groupId);
    const cap = optInt('partitionBuffer', options.partitionBuffer ?? 64, 1);
    const commitIntervalMs = optNumber('commitIntervalMs', options.commitIntervalMs ?? 1000, Number.MIN_VALUE);
    const sessionTimeout = optInt('sessionTimeoutMs', options.sessionTimeoutMs ?? 30_000, 1000);
    const heartbeatInterval = optInt('heartbeatIntervalMs', options.heartbeatIntervalMs ?? 3000, 100);
    const dead = nonEmpty('deadLetterTopic', options.deadLetterTopic ?? `${topic}.dead`);
    const where = `kafka at ${brokers.join(',')}`;
    const kafka = new Kafka({ clientId: options.clientId ?? 'sluice', brokers, logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 100 }, connectionTimeout: 3000 });
    const admin = kafka.admin();
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    const consumer = kafka.consumer({ groupId, sessionTimeout, heartbeatInterval, rebalanceTimeout: sessionTimeout * 2, maxWaitTimeInMs: 500 });
    try {
      await admin.connect();
    } catch (err) {
      throw new BrokerUnavailableError(where, err);
    }
    try {
      await admin.createTopics({ topics: [{ topic }, { topic: dead }], waitForLeaders: true }).catch(() => false);
      await producer.connect();
      await consumer.connect();
      const source = new KafkaSource(`${where} topic ${JSON.stringify(topic)} group ${JSON.stringify(groupId)}`, { topic, groupId, dead, cap }, consumer, producer, admin);
      consumer.on(consumer.events.GROUP_JOIN, () => source.#rebalanced());
      // kafkajs restarts the consumer itself after a retriable crash (a coordinator loading, a rebalance).
      consumer.on(consumer.events.CRASH, (e) => {
        if (!e.payload.restart) source.#fail(e.payload.error);
      });
      await consumer.subscribe({ topics: [topic], fromBeginning: options.fromBeginning ?? true });
      await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 4, eachBatch: (p) => source.#take(p) });
      source.#commitTimer = setInterval(() => void source.commit(), commitIntervalMs);
      return source;
    } catch (err) {
      await Promise.allSettled([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);
      throw err;
    }
  }

  /** The fetch loop's side: buffer up to the cap, mark the fetch position, pause when full. Never waits for a handler. */
  async #take(p: EachBatchPayload): Promise<void> {
    const batch = p.batch;
    const partition = batch.partition;
    const buf = this.#buffers.get(partition) ?? [];
    this.#buffers.set(partition, buf);
    const tracker = this.#trackers.get(partition) ?? new OffsetTracker();
    this.#trackers.set(partition, tracker);
    for (const message of batch.messages) {
      if (!p.isRunning() || p.isStale() || this.#closed) break;
      if (buf.length >= this.#cap) {
        // The rest of this batch stays unresolved: fetched again after resume.
        this.#pause(partition);
        break;
      }
      buf.push({ partition, message, attempt: 1, generation: this.#generation });
      tracker.track(BigInt(message.offset));
      p.resolveOffset(message.offset);
    }
    if (buf.length >= this.#cap) this.#pause(partition);
    this.#wake?.();
    await p.heartbeat();
  }

  #pause(partition: number): void {
    if (this.#paused.has(partition)) return;
    this.#paused.add(partition);
    this.#consumer.pause([{ topic: this.topic, partitions: [partition] }]);
  }

  #maybeResume(partition: number, buf: Held[]): void {
    if (this.#paused.has(partition) && buf.length <= this.#cap / 2) {
      this.#paused.delete(partition);
      this.#consumer.resume([{ topic: this.topic, partitions: [partition] }]);
    }
  }

  /** A rebalance: what was buffered may now belong to another member, which reads it from the committed offset. */
  #rebalanced(): void {
    this.#generation++;
    this.#buffers.clear();
    this.#trackers.clear();
    this.#paused.clear();
  }

  #fail(err: unknown): void {
    this.#failure ??= new BrokerUnavailableError(this.name, err);
    this.#wake?.();
  }

  /** Partitions paused now because their buffer is full. */
  get pausedPartitions(): readonly number[] {
    return [...this.#paused];
  }

  get buffered(): number {
    let n = 0;
    for (const b of this.#buffers.values()) n += b.length;
    return n;
  }

  async pull(max: number, emit: (delivery: Delivery) => void, signal: AbortSignal): Promise<void> {
    while (this.buffered === 0 && this.#failure === undefined && !signal.aborted && !this.#closed) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.#wake = undefined;
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.#wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
    if (this.#failure !== undefined) throw this.#failure;
    if (signal.aborted || this.#closed) return;
    // Round-robin over partitions so one busy partition does not starve the others.
    let n = 0;
    while (n < max) {
      let took = false;
      for (const [partition, buf] of this.#buffers) {
        if (n >= max) break;
        const held = buf.shift();
        if (held === undefined) continue;
        took = true;
        n++;
        emit(new KafkaDelivery(held, this));
        this.#maybeResume(partition, buf);
      }
      if (!took) break;
    }
  }

  /** @internal */
  finished(held: Held): void {
    if (held.generation !== this.#generation) return;
    this.#trackers.get(held.partition)?.done(BigInt(held.message.offset));
  }

  /** @internal In-process redelivery: back to the front of its partition's buffer, one attempt more. */
  redeliver(held: Held): void {
    if (held.generation !== this.#generation || this.#closed) return;
    held.attempt++;
    const buf = this.#buffers.get(held.partition);
    if (buf === undefined) return;
    buf.unshift(held);
    this.#wake?.();
  }

  /** @internal */
  async produceDead(held: Held, reason: string): Promise<void> {
    const m = held.message;
    await this.#producer.send({
      topic: this.deadLetterTopic,
      acks: -1,
      messages: [{ key: m.key, value: m.value, headers: { ...m.headers, 'sluice-error': reason, 'sluice-attempts': String(held.attempt), 'sluice-source': `${this.topic}/${held.partition}@${m.offset}` } }],
    });
  }

  /** Commit what is committable on every partition (the lowest unfinished offset). */
  commit(): Promise<void> {
    this.#committing = this.#committing.then(async () => {
      const offsets: { topic: string; partition: number; offset: string }[] = [];
      for (const [partition, t] of this.#trackers) {
        const c = t.committable();
        if (c !== undefined) offsets.push({ topic: this.topic, partition, offset: String(c) });
      }
      if (offsets.length === 0) return;
      try {
        await this.#consumer.commitOffsets(offsets);
        for (const o of offsets) this.#trackers.get(o.partition)?.committed(BigInt(o.offset));
      } catch {
        // a rebalance in progress: the next commit (or the new owner) catches up
      }
    });
    return this.#committing;
  }

  /** Log-end offset minus the group's committed offset, summed over the partitions. */
  async lag(): Promise<number> {
    const [ends, committed] = await Promise.all([this.#admin.fetchTopicOffsets(this.topic), this.#admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] })]);
    const done = new Map<number, bigint>();
    for (const p of committed[0]?.partitions ?? []) done.set(p.partition, BigInt(p.offset));
    let lag = 0n;
    for (const p of ends) {
      const end = BigInt(p.high);
      const c = done.get(p.partition) ?? -1n;
      lag += c < 0n ? end - BigInt(p.low) : end - c;
    }
    return Number(lag);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#commitTimer !== undefined) clearInterval(this.#commitTimer);
    this.#wake?.();
    await this.commit();
    await Promise.allSettled([this.#consumer.disconnect(), this.#producer.disconnect(), this.#admin.disconnect()]);
  }
}
