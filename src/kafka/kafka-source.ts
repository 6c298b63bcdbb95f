/**
 * A Kafka consumer group as a BrokerSource (kafkajs). The fetch loop only moves messages
 * into a bounded buffer per partition and returns, so it never waits for a handler:
 * heartbeats go on however slow the processing, and the loop is back within the session and
 * rebalance timeouts (the max poll interval of the Java client) — a slow handler never
 * triggers a rebalance. When a partition's buffer holds `partitionBuffer` messages, that
 * partition is paused (the rest of its batch stays unread, fetched again on resume); when the
 * pipeline's demand has drained it below half, it is resumed. Each fetch asks for the bytes of
 * the room the buffers have (FetchBudget), so a small demand never pulls megabytes. Offsets are committed only
 * after processing, per partition at the lowest unfinished offset (OffsetTracker), every
 * `commitIntervalMs` and on close. A retry re-delivers in this process after the delay,
 * uncommitted meanwhile; a consumer that stops (or a broker failure) cuts that wait short and
 * leaves the message uncommitted, so the group reads it again from the committed offset. Each
 * failure is committed first, in the committed offset's metadata (AttemptLedger), so the attempt
 * count survives a restart or a rebalance; a dead letter is produced to `<topic>.dead` with the reason
 * (cut to fit, or a stub, when too large: kafka-dead-letter.ts).
 */
import type { Admin, Consumer, EachBatchPayload, KafkaMessage, Message, Producer } from 'kafkajs';
import { Kafka } from 'kafkajs';
import { InvalidOptionError, optBoolean, optInt, optKnownKeys, optNumber, optOneOf, TIMER_MAX_MS } from '../core/index.js';
import { Arrivals } from '../brokers/arrivals.js';
import { BrokerRefusedError, BrokerUnavailableError } from '../brokers/broker-error.js';
import { kafkaAuth } from './kafka-auth.js';
import { KafkaReach } from './kafka-connect.js';
import { hostList, nonEmpty } from '../brokers/options.js';
import { ConnectionTracker } from '../brokers/connection-state.js';
import type { ConnectionStats } from '../brokers/connection-state.js';
import type { BrokerSource } from '../brokers/source.js';
import { pause, pullMax } from '../brokers/source.js';
import type { Delivery } from '../brokers/delivery.js';
import { DeliveryBase, stringHeaders } from '../brokers/delivery.js';
import { FetchBudget } from './fetch-budget.js';
import type { KafkaSourceOptions, KafkaSourceStats } from './kafka-options.js';
import { KAFKA_SOURCE_DEFAULTS, KAFKA_SOURCE_KEYS } from './kafka-options.js';
import { GroupCommits } from './group-commits.js';
import { ensureTopics, kafkaReason, TopicNotCreatedError, TopicNotServedError, TopicRefusedError } from './topics.js';
import { argOptions } from '../core/option-keys.js';
import type { DeadLetterTooLargeError } from '../brokers/dead-letter-fit.js';
import { deadLetterOf, fitDeadLetter, maxMessageBytes, tooLarge } from './kafka-dead-letter.js';

interface Held {
  readonly partition: number;
  readonly message: KafkaMessage;
  attempt: number;
  readonly generation: number;
}

class KafkaDelivery extends DeliveryBase {
  constructor(
    private readonly held: Held,
    private readonly owner: KafkaSource,
  ) {
    const m = held.message;
    super({ broker: 'kafka', source: `${owner.topic}/${held.partition}`, id: `${held.partition}:${m.offset}`, body: m.value ?? Buffer.alloc(0), headers: stringHeaders(m.headers as Record<string, unknown> | undefined), attempt: held.attempt });
  }

  protected doAck(): Promise<void> {
    this.owner.finished(this.held);
    return Promise.resolve();
  }

  protected async doRetry(delayMs: number): Promise<void> {
    // Counted where a restarted consumer finds it before the wait, which a stop or a crash may cut short.
    await this.owner.failed(this.held);
    if (delayMs > 0) await pause(delayMs, this.owner.hurry);
    this.owner.redeliver(this.held);
  }

  protected async doDeadLetter(reason: string): Promise<void> {
    const stub = await this.owner.produceDead(this.held, reason);
    this.owner.finished(this.held);
    if (stub !== undefined) throw stub; // settled (committed past), told as a settle error
  }
}

/** An authorization kafkajs was refused (an ACL on the topic or the group), as an error naming what was refused; undefined for any other error. */
function authorizationRefused(topic: string, groupId: string, err: unknown): Error | undefined {
  if (err instanceof BrokerRefusedError || err instanceof BrokerUnavailableError) return undefined;
  const reason = kafkaReason(err);
  if (reason.type === undefined || !reason.type.endsWith('AUTHORIZATION_FAILED')) return undefined;
  if (reason.type === 'GROUP_AUTHORIZATION_FAILED') return new Error(`group ${JSON.stringify(groupId)} is refused to this client (${reason.text})`, { cause: err });
  return new TopicRefusedError(topic, { type: reason.type, text: reason.text }, err);
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
  readonly #budget: FetchBudget;
  readonly #buffers = new Map<number, Held[]>();
  readonly #commits: GroupCommits;
  readonly #paused = new Set<number>();
  #assigned: readonly number[] = [];
  #generation = 0;
  #joins = 0;
  #fetches = 0;
  #fetchedBytes = 0;
  #largestFetch = 0;
  readonly #arrivals = new Arrivals();
  readonly #connection = new ConnectionTracker();
  /** Aborted when the consumer stops or the broker fails: retries waiting out their delay end. */
  readonly #hurry = new AbortController();
  #commitTimer: ReturnType<typeof setInterval> | undefined;

  private constructor(name: string, o: { topic: string; groupId: string; dead: string; cap: number; budget: FetchBudget }, consumer: Consumer, producer: Producer, admin: Admin) {
    this.name = name;
    this.topic = o.topic;
    this.groupId = o.groupId;
    this.deadLetterTopic = o.dead;
    this.#cap = o.cap;
    this.#budget = o.budget;
    this.#consumer = consumer;
    this.#producer = producer;
    this.#admin = admin;
    this.#commits = new GroupCommits(o.topic, o.groupId, consumer);
  }

  /** The free room of each assigned partition a fetch would ask for (paused ones are left out of fetches). */
  *#rooms(): Iterable<number> {
    for (const p of this.#assigned) if (!this.#paused.has(p)) yield Math.max(0, this.#cap - (this.#buffers.get(p)?.length ?? 0));
  }

  static async open(options: KafkaSourceOptions): Promise<KafkaSource> {
    argOptions('KafkaSource', options, false);
    optKnownKeys('KafkaSource', options, KAFKA_SOURCE_KEYS);
    const brokers = hostList('brokers', options.brokers);
    const topic = nonEmpty('topic', options.topic);
    const groupId = nonEmpty('groupId', options.groupId);
    const d = KAFKA_SOURCE_DEFAULTS;
    const cap = optInt('partitionBuffer', options.partitionBuffer ?? d.partitionBuffer, 1);
    const fetchSizing = optOneOf('fetchSizing', options.fetchSizing ?? d.fetchSizing, ['demand', 'fixed'] as const);
    const maxBytesPerPartition = optInt('maxBytesPerPartition', options.maxBytesPerPartition ?? d.maxBytesPerPartition, 1, 2 ** 31 - 1);
    const maxBytes = optInt('maxBytes', options.maxBytes ?? Math.max(d.maxBytes, maxBytesPerPartition), 1, 2 ** 31 - 1);
    if (maxBytes < maxBytesPerPartition) throw new InvalidOptionError('maxBytes', `an integer >= maxBytesPerPartition (${maxBytesPerPartition})`, maxBytes);
    const initialRecordBytes = optInt('initialRecordBytes', options.initialRecordBytes ?? d.initialRecordBytes, 1);
    // A Node timer past 2^31 − 1 ms (Infinity too) fires every 1 ms.
    const commitIntervalMs = optNumber('commitIntervalMs', options.commitIntervalMs ?? 1000, Number.MIN_VALUE, TIMER_MAX_MS);
    const fromBeginning = optBoolean('fromBeginning', options.fromBeginning, true);
    const clientId = nonEmpty('clientId', options.clientId ?? 'sluice');
    const sessionTimeout = optInt('sessionTimeoutMs', options.sessionTimeoutMs ?? 30_000, 1000);
    const heartbeatInterval = optInt('heartbeatIntervalMs', options.heartbeatIntervalMs ?? 3000, 100);
    const dead = nonEmpty('deadLetterTopic', options.deadLetterTopic ?? `${topic}.dead`);
    const topicWaitMs = optNumber('topicWaitMs', options.topicWaitMs ?? 10_000, 0, TIMER_MAX_MS);
    const auth = kafkaAuth(options);
    const where = `kafka at ${brokers.join(',')}`;
    const reach = new KafkaReach(where, options.connectTimeoutMs);
    const kafka = new Kafka({ clientId, brokers, ...auth, ...reach.config(), retry: { retries: 3, initialRetryTime: 100 } });
    const admin = kafka.admin();
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    let rooms: () => Iterable<number> = () => [];
    const budget = new FetchBudget({ maxBytesPerPartition, maxBytes, initialRecordBytes, adaptive: fetchSizing === 'demand' }, () => rooms());
    // minBytes stays 1: the broker answers as soon as anything is there, since a handler may be waiting for it.
    const consumer = kafka.consumer({ groupId, sessionTimeout, heartbeatInterval, rebalanceTimeout: sessionTimeout * 2, maxWaitTimeInMs: 500, minBytes: 1, ...budget.kafkajsLimits() });
    await reach.connect(
      () => admin.connect(),
      () => admin.disconnect(),
    );
    try {
      // Created when missing, and waited for until their leaders serve them (a fresh topic's first moments: topics.ts),
      // up to topicWaitMs, then an error naming the topic and why. One missing that cannot be created,
      // or refused to this client (an ACL), is refused at once (topics.ts).
      await ensureTopics(admin, [{ topic }, { topic: dead }], topicWaitMs, undefined, 'topicWaitMs').catch((err: unknown) => {
        if (err instanceof TopicNotServedError) throw new BrokerUnavailableError(where, err);
        if (!(err instanceof TopicNotCreatedError || err instanceof TopicRefusedError)) throw err;
        throw new BrokerRefusedError(where, err.type.includes('AUTHORIZATION') ? 'permission' : 'request', err);
      });
      await producer.connect();
      await consumer.connect();
      const source = new KafkaSource(`${where} topic ${JSON.stringify(topic)} group ${JSON.stringify(groupId)}`, { topic, groupId, dead, cap, budget }, consumer, producer, admin);
      rooms = () => source.#rooms();
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        source.#connection.up(); // back in the group after a crash kafkajs restarted from
        source.#rebalanced(e.payload.memberAssignment[topic] ?? []);
      });
      consumer.on(consumer.events.REQUEST, (e) => {
        if (e.payload.apiName === 'Fetch') source.#fetched(e.payload.size);
      });
      // kafkajs restarts the consumer itself after a retriable crash (a coordinator loading, a rebalance).
      // While it restarts (for as long as the error is retriable: a broker down, unreachable) the
      // consumer is reconnecting; it is up again once it has rejoined the group.
      consumer.on(consumer.events.CRASH, (e) => {
        if (e.payload.restart) source.#connection.lost();
        else source.#fail(e.payload.error);
      });
      await consumer.subscribe({ topics: [topic], fromBeginning });
      await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 4, eachBatch: (p) => source.#take(p) });
      source.#commitTimer = setInterval(() => void source.commit(), commitIntervalMs);
      return source;
    } catch (err) {
      await Promise.allSettled([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);
      // An ACL refusing the topic or the group to the client (the consumer's join, its first offsets): not kafkajs's bare error.
      const refused = authorizationRefused(topic, groupId, err);
      throw refused === undefined ? err : new BrokerRefusedError(where, 'permission', refused);
    }
  }

  /** The fetch loop's side: buffer up to the cap, mark the fetch position, pause when full. Never waits for a handler. */
  async #take(p: EachBatchPayload): Promise<void> {
    const batch = p.batch;
    const partition = batch.partition;
    await this.#commits.loaded;
    const buf = this.#buffers.get(partition) ?? [];
    this.#buffers.set(partition, buf);
    for (const message of batch.messages) {
      if (!p.isRunning() || p.isStale() || this.#arrivals.closed) break;
      if (buf.length >= this.#cap) {
        // The rest of this batch stays unresolved: fetched again after resume.
        this.#pause(partition);
        break;
      }
      buf.push({ partition, message, attempt: this.#commits.took(partition, BigInt(message.offset)), generation: this.#generation });
      this.#budget.observe(message);
      p.resolveOffset(message.offset);
    }
    if (buf.length >= this.#cap) this.#pause(partition);
    this.#arrivals.ring();
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
  #rebalanced(assigned: readonly number[]): void {
    this.#joins++;
    this.#assigned = [...assigned];
    this.#generation++;
    this.#buffers.clear();
    this.#commits.rejoined(this.#generation, assigned, this.#admin);
    // kafkajs keeps a partition paused across a rebalance; its buffer is gone now, so it must be read again.
    if (this.#paused.size > 0) this.#consumer.resume([{ topic: this.topic, partitions: [...this.#paused] }]);
    this.#paused.clear();
  }

  #fail(err: unknown): void {
    this.#connection.down();
    this.#hurry.abort();
    const refused = authorizationRefused(this.topic, this.groupId, err);
    this.#arrivals.fail(refused === undefined ? new BrokerUnavailableError(this.name, err) : new BrokerRefusedError(this.name, 'permission', refused));
  }

  #fetched(bytes: number): void {
    this.#fetches++;
    this.#fetchedBytes += bytes;
    this.#largestFetch = Math.max(this.#largestFetch, bytes);
  }

  /** The consumer's connection: `reconnecting` from a crash kafkajs restarts from until it rejoined the group; `down` after one it does not, or close(). */
  get connection(): ConnectionStats {
    return this.#connection.snapshot();
  }

  /** Partitions paused now because their buffer is full. */
  get pausedPartitions(): readonly number[] {
    return [...this.#paused];
  }

  stats(): KafkaSourceStats {
    return {
      buffered: this.buffered,
      assignedPartitions: [...this.#assigned],
      pausedPartitions: this.pausedPartitions,
      joins: this.#joins,
      fetches: this.#fetches,
      fetchedBytes: this.#fetchedBytes,
      largestFetchBytes: this.#largestFetch,
      recordBytes: Math.round(this.#budget.recordBytes),
      budgetPerPartition: this.#budget.perPartition(),
      budget: this.#budget.total(),
      uncommitted: this.#commits.uncommitted(),
      commitErrors: this.#commits.errors.count,
      lastCommitError: this.#commits.errors.last,
    };
  }

  get buffered(): number {
    let n = 0;
    for (const b of this.#buffers.values()) n += b.length;
    return n;
  }

  async pull(demand: number, emit: (delivery: Delivery) => void, signal: AbortSignal): Promise<void> {
    const max = pullMax(demand);
    if (!(await this.#arrivals.wait(() => this.buffered > 0, signal))) return;
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
    this.#commits.done(held.partition, BigInt(held.message.offset));
  }

  /** @internal Its handler failed (attempt `held.attempt`): recorded and committed before it is retried. */
  async failed(held: Held): Promise<void> {
    if (held.generation !== this.#generation) return;
    this.#commits.failed(held.partition, BigInt(held.message.offset), held.attempt);
    await this.commit();
  }

  /** The consumer stops: retries waiting out their delay end now, their messages left uncommitted. */
  stopping(): void {
    this.#hurry.abort();
  }

  /** @internal */
  get hurry(): AbortSignal {
    return this.#hurry.signal;
  }

  /**
   * @internal In-process redelivery: back to the front of its partition's buffer, one attempt
   * more. Stopping (or stopped): left uncommitted instead, for the group to read again.
   */
  redeliver(held: Held): void {
    if (held.generation !== this.#generation || this.#arrivals.closed || this.#hurry.signal.aborted) return;
    held.attempt++;
    const buf = this.#buffers.get(held.partition);
    if (buf === undefined) return;
    buf.unshift(held);
    this.#arrivals.ring();
  }

  /**
   * @internal The dead letter of `held`; one the broker refuses as too large is cut to the dead
   * topic's max.message.bytes, or sent as a stub: the DeadLetterTooLargeError to settle with (kafka-dead-letter.ts).
   */
  async produceDead(held: Held, reason: string): Promise<DeadLetterTooLargeError | undefined> {
    const m = held.message;
    const origin = `${this.topic}/${held.partition}@${m.offset}`;
    const send = (message: Message): Promise<unknown> => this.#producer.send({ topic: this.deadLetterTopic, acks: -1, messages: [message] });
    try {
      await send(deadLetterOf(m, reason, held.attempt, origin));
      return undefined;
    } catch (err) {
      if (!tooLarge(err)) throw err;
    }
    const fit = fitDeadLetter(m, reason, held.attempt, origin, await maxMessageBytes(this.#admin, this.deadLetterTopic), this.name);
    await send(fit.message);
    return fit.stub;
  }

  /** Commit what is committable on every partition (the lowest unfinished offset), with the failures of what is not finished. */
  commit(): Promise<void> {
    return this.#commits.commit();
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
    if (!this.#arrivals.close()) return;
    this.#connection.down();
    if (this.#commitTimer !== undefined) clearInterval(this.#commitTimer);
    // Buffered and never handed out: left uncommitted (their offsets are tracked unfinished), for the group to read again — no longer held here.
    for (const buf of this.#buffers.values()) buf.length = 0;
    await this.commit();
    await Promise.allSettled([this.#consumer.disconnect(), this.#producer.disconnect(), this.#admin.disconnect()]);
  }
}
