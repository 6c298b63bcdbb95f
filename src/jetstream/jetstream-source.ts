/**
 * A NATS JetStream pull consumer as a BrokerSource. Each pull is one fetch of exactly the
 * outstanding demand (capped at `maxBatch`): the server sends what it has at once and the
 * rest as it arrives, until the batch is full or `expiresMs` passes. The consumer's
 * `max_ack_pending` bounds what this group holds unacknowledged across machines. Ack after
 * processing, and awaited: the server's reply to the ack (`ackAck`) is what makes it acked,
 * so a lost ack (a server down, a cut) is a settle error and the message is redelivered after
 * `ack_wait`, never counted done. Retry is `nak(delay)` and a dead letter a publish to the
 * dead-letter stream, then `term`: both awaited the same way (sent as requests the server
 * answers), and refused at once while the connection is down. `extend` is the in-progress ack
 * (`+WPI`) for long work.
 */
import type { JetStreamClient, JetStreamManager, JsMsg, Consumer, ConsumerMessages } from '@nats-io/jetstream';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import { connect, headers as natsHeaders } from '@nats-io/transport-node';
import type { Clock } from '../core/index.js';
import { InvalidOptionError, optInt, optionKeys, optKnownKeys, optNumber, systemClock, TIMER_MAX_MS } from '../core/index.js';
import { BrokerUnavailableError, reach } from '../brokers/broker-error.js';
import { ConnectionTracker } from '../brokers/connection-state.js';
import type { ConnectionStats } from '../brokers/connection-state.js';
import type { BrokerSource } from '../brokers/source.js';
import { pause, pullMax } from '../brokers/source.js';
import type { Delivery } from '../brokers/delivery.js';
import { cutToFit, DeadLetterTooLargeError } from '../brokers/dead-letter-fit.js';
import { DeliveryBase } from '../brokers/delivery.js';
import { natsServers, nonEmpty, nonEmptyList } from '../brokers/options.js';
import { argOptions } from '../core/option-keys.js';
import { optClock } from '../core/options.js';

export interface JetstreamSourceOptions {
  /** NATS server(s). @default '127.0.0.1:4222' */
  readonly servers?: string | readonly string[];
  /** The stream. Non-empty; created with `subjects` when missing and `subjects` is given. */
  readonly stream: string;
  /** Subjects of the stream, when this source should create it. */
  readonly subjects?: readonly string[];
  /** Durable pull consumer name. Created (or updated) with the settings below. Non-empty. */
  readonly consumer: string;
  /** The consumer's `max_ack_pending`: messages the whole group may hold unacknowledged. Integer in [1, 9007199254740991]. @default 1000 */
  readonly maxAckPending?: number;
  /** The consumer's `ack_wait`, ms: redelivered when neither acked nor extended for this long. In [1000, 2147483647]. @default 30000 */
  readonly ackWaitMs?: number;
  /** The consumer's `max_deliver` backstop (the retry policy dead-letters before it). Integer >= 1 or -1 (unlimited). @default -1 */
  readonly maxDeliver?: number;
  /** Largest single fetch. Integer in [1, 10000]. @default 256 */
  readonly maxBatch?: number;
  /** How long one fetch waits for its batch to fill, ms. In [1000 (the client's floor), 2147483647]. @default 1000 */
  readonly expiresMs?: number;
  /** Subject of dead letters; a stream `${stream}_DEAD` capturing it is created. @default `sluice.dead.${stream}` */
  readonly deadLetterSubject?: string;
  /**
   * How long fetches answered 503 (JetStream not available: a server restarting, a cluster
   * electing its leader) are tried again, ms from the first such answer, before the consumer
   * fails with BrokerUnavailableError. In [0, 2147483647]. @default 30000
   */
  readonly unavailableMs?: number;
  /** The clock `unavailableMs` is measured on. @default systemClock */
  readonly clock?: Clock;
}

class JetstreamDelivery extends DeliveryBase {
  constructor(
    source: string,
    private readonly msg: JsMsg,
    private readonly owner: JetstreamSource,
  ) {
    const headers: Record<string, string> = {};
    if (msg.headers !== undefined) for (const [k, v] of msg.headers) headers[k] = v.join(', ');
    super({ broker: 'jetstream', source, id: String(msg.seq), body: msg.data, headers, attempt: msg.info.deliveryCount });
  }

  protected async doAck(): Promise<void> {
    // Rejects when no reply comes within the client's ack timeout (5 s); false: not sent (no reply subject).
    if (!(await this.msg.ackAck())) throw new Error(`ack of ${this.id} not sent`);
  }

  protected doRetry(delayMs: number): Promise<void> {
    return this.owner.settle(this.msg, delayMs > 0 ? `-NAK ${JSON.stringify({ delay: Math.round(delayMs) * 1_000_000 })}` : '-NAK', 'nak');
  }

  protected async doDeadLetter(reason: string): Promise<void> {
    await this.owner.publishDead(this.msg, reason);
    // Without the reason (the copy carries it): a server before 2.10 takes `+TERM <reason>` for no
    // ack at all, and the message would come back after every ack_wait.
    await this.owner.settle(this.msg, '+TERM', 'term');
  }

  protected override doExtend(): Promise<void> {
    this.msg.working();
    return Promise.resolve();
  }
}

/** How long a nak or term waits for the server's reply: the client's own ack timeout. */
const SETTLE_TIMEOUT_MS = 5000;

/** How long close() drains a connection that is up before it closes it. */
const CLOSE_DRAIN_MS = 2000;

const JETSTREAM_SOURCE_KEYS = optionKeys<JetstreamSourceOptions>({ servers: true, stream: true, subjects: true, consumer: true, maxAckPending: true, ackWaitMs: true, maxDeliver: true, maxBatch: true, expiresMs: true, deadLetterSubject: true, unavailableMs: true, clock: true });

export class JetstreamSource implements BrokerSource {
  readonly name: string;
  readonly stream: string;
  readonly deadLetterSubject: string;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #consumer: Consumer;
  readonly #maxBatch: number;
  readonly #expiresMs: number;
  readonly #durable: string;
  readonly #unavailableMs: number;
  readonly #clock: Clock;
  readonly #connection = new ConnectionTracker();
  #current: ConsumerMessages | undefined;
  #closed = false;
  /** Disconnects seen: a fetch that fails across one is tried again once the client reconnects. */
  #disconnects = 0;
  /** When fetches began to be answered 503 (JetStream not available), until one succeeds. */
  #unavailableSince: number | undefined;

  private constructor(name: string, stream: string, durable: string, dead: string, nc: NatsConnection, consumer: Consumer, limits: { readonly maxBatch: number; readonly expiresMs: number; readonly unavailableMs: number; readonly clock: Clock }) {
    this.name = name;
    this.stream = stream;
    this.#durable = durable;
    this.deadLetterSubject = dead;
    this.#nc = nc;
    this.#js = jetstream(nc);
    this.#consumer = consumer;
    this.#maxBatch = limits.maxBatch;
    this.#expiresMs = limits.expiresMs;
    this.#unavailableMs = limits.unavailableMs;
    this.#clock = limits.clock;
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') {
          this.#disconnects++;
          this.#connection.lost();
        } else if (s.type === 'reconnect') {
          this.#connection.up();
          // A fetch that spans the cut ends here: the client would check the consumer again
          // (consumer.info) for as long as it is answered 503, never ending the fetch. pull()
          // fetches again, and a 503 counts towards unavailableMs. What the stopped fetch took
          // and did not yield stays unacknowledged: redelivered after ack_wait.
          this.#current?.stop();
        }
      }
    })().catch(() => undefined);
    void nc.closed().finally(() => this.#connection.down());
  }

  /** `up`; `reconnecting` from a disconnect until the client is back (10 tries, 2 s apart); `down` once it gave up or the source closed. */
  get connection(): ConnectionStats {
    return this.#connection.snapshot();
  }

  static async open(options: JetstreamSourceOptions): Promise<JetstreamSource> {
    argOptions('JetstreamSource', options, false);
    optKnownKeys('JetstreamSource', options, JETSTREAM_SOURCE_KEYS);
    const stream = nonEmpty('stream', options.stream);
    const durable = nonEmpty('consumer', options.consumer);
    // A string of subjects would be spread into one subject per character.
    const subjects = options.subjects === undefined ? undefined : nonEmptyList('subjects', options.subjects);
    const maxAckPending = optInt('maxAckPending', options.maxAckPending ?? 1000, 1, Number.MAX_SAFE_INTEGER);
    const ackWaitMs = optNumber('ackWaitMs', options.ackWaitMs ?? 30_000, 1000, TIMER_MAX_MS);
    const maxDeliver = optInt('maxDeliver', options.maxDeliver ?? -1, -1);
    if (maxDeliver === 0) throw new InvalidOptionError('maxDeliver', 'an integer >= 1 or -1 (unlimited)', 0);
    const maxBatch = optInt('maxBatch', options.maxBatch ?? 256, 1, 10_000);
    const expiresMs = optNumber('expiresMs', options.expiresMs ?? 1000, 1000, TIMER_MAX_MS);
    const unavailableMs = optNumber('unavailableMs', options.unavailableMs ?? 30_000, 0, TIMER_MAX_MS);
    const clock = optClock(options.clock, systemClock, 'clock', true);
    const dead = nonEmpty('deadLetterSubject', options.deadLetterSubject ?? `sluice.dead.${stream}`);
    // An empty list would silently mean the client's default, localhost:4222.
    const servers = natsServers(options.servers, '127.0.0.1:4222');
    const where = `jetstream at nats://${Array.isArray(servers) ? servers.join(',') : String(servers)}`;
    const nc = await reach(where, () => connect({ servers, maxReconnectAttempts: 10 }));
    try {
      const jsm = await jetstreamManager(nc);
      await ensureStream(jsm, stream, subjects);
      await ensureStream(jsm, `${stream}_DEAD`, [dead]);
      await jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        max_ack_pending: maxAckPending,
        ack_wait: ackWaitMs * 1_000_000,
        max_deliver: maxDeliver,
      });
      const consumer = await jetstream(nc).consumers.get(stream, durable);
      return new JetstreamSource(`${where} stream ${JSON.stringify(stream)} consumer ${JSON.stringify(durable)}`, stream, durable, dead, nc, consumer, { maxBatch, expiresMs, unavailableMs, clock });
    } catch (err) {
      await nc.close().catch(() => undefined);
      throw err;
    }
  }

  async pull(demand: number, emit: (delivery: Delivery) => void, signal: AbortSignal): Promise<void> {
    const max = pullMax(demand);
    let emitted = 0;
    let failures = 0;
    while (emitted === 0 && !signal.aborted && !this.#closed) {
      if (this.#nc.isClosed()) throw new BrokerUnavailableError(this.name, new Error('connection closed'));
      const disconnects = this.#disconnects;
      try {
        const batch = await this.#consumer.fetch({ max_messages: Math.min(max, this.#maxBatch), expires: this.#expiresMs });
        this.#current = batch;
        const stop = (): void => batch.stop();
        signal.addEventListener('abort', stop, { once: true });
        try {
          for await (const m of batch) {
            emitted++;
            emit(new JetstreamDelivery(this.stream, m, this));
          }
          this.#unavailableSince = undefined;
        } finally {
          signal.removeEventListener('abort', stop);
          this.#current = undefined;
        }
      } catch (err) {
        if (emitted > 0 || signal.aborted || this.#closed) return;
        if (this.#nc.isClosed()) throw new BrokerUnavailableError(this.name, err);
        // A server restart or a network cut while the client reconnects: the fetch loses its
        // heartbeats, or fails otherwise while the connection is down. Not the consumer's end —
        // fetch again once the connection is back. JetStream not answering (503 no responders) while the server answers clients: a server
        // restarting (its store recovering), a cluster electing its meta leader. Tried again for
        // up to unavailableMs from the first such answer, then the consumer's end (its connection
        // `down`: nothing pulls from it again).
        const unavailable = isUnavailable(err);
        if (unavailable) {
          const now = this.#clock.now();
          this.#unavailableSince ??= now;
          if (now - this.#unavailableSince >= this.#unavailableMs) {
            this.#connection.down();
            throw new BrokerUnavailableError(this.name, new Error(`JetStream not available for ${this.#unavailableMs} ms (${(err as Error).message})`, { cause: err }));
          }
        }
        const transient = unavailable || this.#disconnects !== disconnects || this.#connection.state !== 'up' || (err instanceof Error && err.message === 'heartbeats missed');
        if (!transient) throw err;
        await pause(Math.min(2000, 100 * 2 ** failures++), signal);
        continue;
      }
    }
  }

  /** Messages the current fetch has brought in that the pipeline has not taken yet (the client's queue). */
  get buffered(): number {
    // Messages pushed into the iterator minus those it yielded (getPending() miscounts while a control callback is queued).
    const b = this.#current;
    return b === undefined ? 0 : Math.max(0, b.getReceived() - b.getProcessed());
  }

  /** `num_pending`: messages in the stream this consumer has not yet been delivered. */
  async lag(): Promise<number> {
    const info = await this.#consumer.info();
    return info.num_pending;
  }

  /** @internal */
  async publishDead(msg: JsMsg, reason: string): Promise<void> {
    const h = natsHeaders();
    if (msg.headers !== undefined) for (const [k, vs] of msg.headers) for (const v of vs) h.append(k, v);
    h.set('Sluice-Error', reason.replace(/[\r\n]+/g, ' '));
    h.set('Sluice-Attempts', String(msg.info.deliveryCount));
    h.set('Sluice-Source', `${this.stream}:${msg.seq}`);
    // The message's id for the server's de-duplication (its duplicate window, 2 min by default):
    // a term that failed after its copy was stored brings the message back, and its second copy
    // is dropped. Stream, consumer, sequence and store time: unique, even across a recreated stream.
    const msgID = `sluice-dead:${this.stream}:${this.#durable}:${msg.seq}:${String(msg.info.timestampNanos)}`;
    fitDeadLetter(this.name, msg, h, msgID, this.#nc.info?.max_payload);
    await this.#js.publish(this.deadLetterSubject, msg.data, { headers: h, msgID });
  }

  /**
   * @internal A settlement other than the ack (`-NAK`, `+TERM`) sent as a request, so that the
   * server's reply says it arrived: no reply within 5 s (the client's ack timeout) rejects. Refused
   * at once while the connection is down, rather than queued by the client for a reconnect.
   * Either way the message stays unsettled on the server: redelivered after `ack_wait`.
   */
  async settle(msg: JsMsg, payload: string, what: string): Promise<void> {
    const state = this.#connection.state;
    if (state !== 'up') throw new Error(`${this.name}: ${what} of message ${msg.seq} not sent: the connection is ${state}; the server redelivers it after ack_wait`);
    // The ack subject (JsMsgImpl's, not in the JsMsg type): where nak and term go.
    const reply = (msg as Partial<{ reply: string }>).reply;
    if (reply === undefined || reply === '') throw new Error(`${this.name}: ${what} of message ${msg.seq} not sent: it has no reply subject`);
    try {
      await this.#nc.request(reply, payload, { timeout: SETTLE_TIMEOUT_MS });
    } catch (err) {
      throw new Error(`${this.name}: ${what} of message ${msg.seq} not confirmed by the server (${(err as Error).message}); if it did not arrive, the server redelivers it after ack_wait`, { cause: err });
    }
  }

  /**
   * Settles within CLOSE_DRAIN_MS (plus the socket's close): a connection that is up is drained
   * (what was sent, acks among them, flushed to the server) for at most that long; one that is
   * down or reconnecting is closed at once — a drain would wait for the client's reconnect
   * schedule (10 tries, 2 s apart) and send nothing meanwhile. What the consumer held unacked
   * is redelivered by the server after ack_wait.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#current?.stop();
    if (this.#connection.state === 'up') {
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([this.#nc.drain().catch(() => undefined), new Promise((r) => (bound = setTimeout(r, CLOSE_DRAIN_MS)))]);
      clearTimeout(bound);
    }
    this.#connection.down();
    await this.#nc.close().catch(() => undefined);
  }
}

/** A fetch answered 503 (no responders): JetStreamStatusError, which the client's main export does not name. */
function isUnavailable(err: unknown): boolean {
  return err instanceof Error && err.name === 'JetStreamStatusError' && (err as Error & { code?: unknown }).code === 503;
}

async function ensureStream(jsm: JetStreamManager, name: string, subjects: readonly string[] | undefined): Promise<void> {
  try {
    await jsm.streams.info(name);
  } catch (err) {
    if (subjects === undefined || subjects.length === 0) throw new InvalidOptionError('stream', `an existing stream (or \`subjects\` to create it): ${(err as Error).message}`, name);
    await jsm.streams.add({ name, subjects: [...subjects] });
  }
}

/**
 * A dead letter is the message with headers added, so one stored near the server's max_payload
 * may not fit: the client refused it ('max_payload size exceeded'), the term never went, and the
 * message came back after every ack_wait to fail the same way. The added error text is cut to
 * fit; a copy that does not fit even without it (the message and its own headers at the limit)
 * is an error that names the sizes — a settle error, the message redelivered (bound it with
 * `maxDeliver`).
 */
function fitDeadLetter(source: string, msg: JsMsg, h: MsgHdrs, msgID: string, maxPayload: number | undefined): void {
  if (maxPayload === undefined) return;
  // As the client encodes them: 'NATS/1.0\r\n', 'key: value\r\n' each (the publish adds Nats-Msg-Id), '\r\n'.
  const size = (): number => {
    let bytes = msg.data.length + 'NATS/1.0\r\n\r\n'.length + Buffer.byteLength(`Nats-Msg-Id: ${msgID}\r\n`);
    for (const [k, vs] of h) for (const v of vs) bytes += Buffer.byteLength(`${k}: ${v}\r\n`);
    return bytes;
  };
  const over = size() - maxPayload;
  if (over <= 0) return;
  const cut = cutToFit(h.get('Sluice-Error'), over, ' [cut to fit max_payload]');
  if (cut !== undefined) {
    h.set('Sluice-Error', cut);
    if (size() <= maxPayload) return;
  }
  throw new DeadLetterTooLargeError(source, size(), maxPayload, `the dead letter of message ${msg.seq} would be ${size()} bytes with its headers, past the server's max_payload of ${maxPayload}: not copied, the message left to come back after ack_wait`);
}
