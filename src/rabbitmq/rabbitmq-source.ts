/**
 * A RabbitMQ queue as a BrokerSource. Demand meets RabbitMQ's own flow control, `basic.qos`:
 * the broker stops sending once `prefetch` messages are unacknowledged, and the prefetch
 * follows the processing rate (PrefetchWindow) but never falls below what the handlers and
 * waiting retries hold plus the outstanding demand, so a slow handler's rate never starves a free one.
 * Messages wait in a local buffer no longer than the prefetch; the pipeline takes from it only
 * what it demanded. Ack after processing; a retry republishes a copy with the attempt count
 * (through a confirm channel, the original acked only once the copy is confirmed) after its
 * delay; a dead letter goes to `<queue>.dead` with the reason, the same way. A retry's copy
 * that fails gives the original back to its queue (nack, requeue) rather than hold its prefetch
 * slot; a dead letter refused is held and tried again after a backoff (RabbitmqCopier); a
 * deleted queue is a QueueDeletedError, not an outage. A redelivery a classic queue did not
 * count (its consumer died, beside others) is a suspect: moved to the suspect queue
 * (`<queue>.suspects`) and handled there one at a time, alone (Suspects), so that a death points
 * at one message — counted by a copy — and a message that kills its process is dead-lettered
 * after maxAttempts deaths of its own.
 */
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Message } from 'amqplib';
import amqp from 'amqplib';
import type { Clock } from '../core/index.js';
import { InvalidOptionError, optBoolean, optionKeys, optKnownKeys, optNumber, systemClock } from '../core/index.js';
import { Arrivals } from '../brokers/arrivals.js';
import { BrokerUnavailableError, QueueDeletedError, reach, redactUrl } from '../brokers/broker-error.js';
import { ConnectionTracker } from '../brokers/connection-state.js';
import type { ConnectionStats } from '../brokers/connection-state.js';
import type { BrokerSource } from '../brokers/source.js';
import { pause, pullMax } from '../brokers/source.js';
import type { Delivery } from '../brokers/delivery.js';
import type { PrefetchOptions } from '../brokers/prefetch-window.js';
import { PrefetchWindow } from '../brokers/prefetch-window.js';
import { HeldBytes } from '../brokers/held-bytes.js';
import { nonEmpty } from '../brokers/options.js';
import { RabbitmqCopier } from './rabbitmq-copier.js';
import type { DeliveryOwner } from './rabbitmq-delivery.js';
import { RabbitmqDelivery, uncountedRedelivery } from './rabbitmq-delivery.js';
import { Suspects } from './rabbitmq-suspects.js';
import { argOptions } from '../core/option-keys.js';
import { optClock } from '../core/options.js';
import { CLOSE_GRACE_MS } from '../brokers/bounded-close.js';
import { closeAmqp } from './end-connection.js';

export interface RabbitmqSourceOptions {
  /** AMQP URL. @default 'amqp://127.0.0.1:5672' */
  readonly url?: string;
  /** The queue to consume. Non-empty. */
  readonly queue: string;
  /** Where dead letters go (asserted, durable). Non-empty. @default `${queue}.dead` */
  readonly deadLetterQueue?: string;
  /**
   * Where a classic queue's uncounted redeliveries wait to be handled one at a time, alone
   * (asserted, durable; see docs/brokers.md). Every consumer of `queue` must name the same one.
   * Non-empty, other than `queue` and `deadLetterQueue`. @default `${queue}.suspects`
   */
  readonly suspectQueue?: string;
  /** Assert the queue (durable) before consuming. @default true */
  readonly assertQueue?: boolean;
  /**
   * A number for a fixed prefetch; options for a prefetch adapted to the processing rate.
   * Adaptive needs a channel-wide prefetch, which quorum and stream queues refuse: give them a
   * number (otherwise open() is an InvalidOptionError naming prefetch). @default {} (adaptive)
   */
  readonly prefetch?: PrefetchOptions | number;
  /**
   * Bytes (message bodies) this consumer may hold taken and unacknowledged — buffered and in the
   * handlers — when messages are big: the adaptive prefetch is held at what fits, at the average
   * size seen (RabbitMQ counts messages, not bytes). Needs the adaptive prefetch. > 0. @default Infinity
   */
  readonly maxHeldBytes?: number;
  /** @default systemClock */
  readonly clock?: Clock;
}

/** How long a message whose copy failed is kept before it is given back to its queue (basic.nack, requeue). */
const REQUEUE_AFTER_MS = 1000;

/** How long close() waits for the redeliveries being counted (their copies confirmed, their originals acked). */
const CLOSE_COUNTING_MS = 2000;

const RABBITMQ_SOURCE_KEYS = optionKeys<RabbitmqSourceOptions>({ url: true, queue: true, deadLetterQueue: true, suspectQueue: true, assertQueue: true, prefetch: true, maxHeldBytes: true, clock: true });

export class RabbitmqSource implements BrokerSource, DeliveryOwner {
  readonly name: string;
  readonly queue: string;
  readonly deadLetterQueue: string;
  /** Where redeliveries wait to be handled one at a time, alone (Suspects): `suspectQueue`. */
  readonly suspectQueue: string;
  readonly prefetch: PrefetchWindow;
  readonly #held: HeldBytes;
  readonly #conn: ChannelModel;
  readonly #consumeCh: Channel;
  readonly #confirmCh: ConfirmChannel;
  readonly #buffer: ConsumeMessage[] = [];
  readonly #arrivals = new Arrivals();
  /** Aborts when the consumer stops, the source closes or the connection is lost: retries stop waiting out their delay. */
  readonly #hurry = new AbortController();
  #consumerTag: string | undefined;
  #closing: Promise<void> | undefined;
  /** Deliveries handed out and not yet settled: in the handlers, or retries waiting out their delay. */
  #unsettled = 0;
  /** The copies a message is settled by (retries, counted redeliveries, dead letters). */
  readonly #copier: RabbitmqCopier;
  readonly #connection = new ConnectionTracker();
  readonly #suspects: Suspects;

  private constructor(name: string, queues: { readonly queue: string; readonly dlq: string; readonly suspects: string; readonly suspectsWaiting: boolean }, prefetch: PrefetchWindow, held: HeldBytes, conn: ChannelModel, consumeCh: Channel, confirmCh: ConfirmChannel) {
    this.name = name;
    this.#held = held;
    this.queue = queues.queue;
    this.deadLetterQueue = queues.dlq;
    this.suspectQueue = queues.suspects;
    this.prefetch = prefetch;
    this.#conn = conn;
    this.#consumeCh = consumeCh;
    this.#confirmCh = confirmCh;
    const lost = (err?: unknown): void => {
      this.#connection.down(); // amqplib does not reconnect
      this.#hurry.abort();
      if (!this.#arrivals.closed) this.#arrivals.fail(new BrokerUnavailableError(name, err ?? new Error('connection closed')));
    };
    conn.on('error', lost);
    conn.on('close', lost);
    consumeCh.on('close', lost);
    consumeCh.on('error', lost);
    // The copies' channel, closed by the server (a copy refused: 403 ACCESS_REFUSED, 406): every
    // later copy would fail on it, the handlers running again for ever. Unwatched, its error
    // also tore the connection down under a cause that named nothing ("Channel ended").
    confirmCh.on('error', lost);
    confirmCh.on('close', lost);
    this.#copier = new RabbitmqCopier(name, queues.dlq, conn, confirmCh, this.#hurry.signal);
    this.#suspects = new Suspects(queues.suspects, {
      queue: queues.queue,
      settleByCopy: (q, m, h) => this.settleByCopy(q, m, h),
      get: (q) =>
        consumeCh.get(q, { noAck: false }).catch((err: unknown) => {
          throw new BrokerUnavailableError(name, err);
        }),
      handOut: (m, emit) => {
        this.#held.took(m.content.length);
        this.#handOut(m, emit);
      },
      ring: () => this.#arrivals.ring(),
    }, queues.suspectsWaiting);
  }

  /** Connect, assert the queues, start consuming at the initial prefetch. Rejects with BrokerUnavailableError naming the broker. */
  static async open(options: RabbitmqSourceOptions): Promise<RabbitmqSource> {
    argOptions('RabbitmqSource', options, false);
    optKnownKeys('RabbitmqSource', options, RABBITMQ_SOURCE_KEYS);
    const queue = nonEmpty('queue', options.queue);
    const dlq = nonEmpty('deadLetterQueue', options.deadLetterQueue ?? `${queue}.dead`);
    if (dlq === queue) throw new InvalidOptionError('deadLetterQueue', 'a queue other than `queue`', dlq);
    const suspects = nonEmpty('suspectQueue', options.suspectQueue ?? `${queue}.suspects`);
    if (suspects === queue || suspects === dlq) throw new InvalidOptionError('suspectQueue', 'a queue other than `queue` and `deadLetterQueue`', suspects);
    const clock = optClock(options.clock, systemClock, 'clock', true);
    const prefetch = new PrefetchWindow(options.prefetch ?? {}, 'prefetch', clock);
    const held = new HeldBytes(optNumber('maxHeldBytes', options.maxHeldBytes ?? Infinity, 1));
    // A fixed prefetch is per consumer, and RabbitMQ applies a changed one only to consumers started after it.
    if (!prefetch.adaptive && Number.isFinite(held.maxBytes)) throw new InvalidOptionError('maxHeldBytes', `Infinity with a fixed prefetch (${prefetch.value}), which cannot be lowered under a running consumer: give the adaptive prefetch (an object) to bound the bytes`, held.maxBytes);
    const assert = optBoolean('assertQueue', options.assertQueue, true);
    const url = nonEmpty('url', options.url ?? 'amqp://127.0.0.1:5672');
    const name = `rabbitmq at ${redactUrl(url)} queue ${JSON.stringify(queue)}`;
    const conn = await reach(`rabbitmq at ${redactUrl(url)}`, () => amqp.connect(url));
    // A quorum or stream queue refuses a channel-wide prefetch by closing the connection (540).
    let refusedGlobal: Error | undefined;
    conn.on('error', (e: Error) => {
      if (/global qos/i.test(e.message)) refusedGlobal = e;
    });
    try {
      const confirmCh = await conn.createConfirmChannel();
      if (assert) await confirmCh.assertQueue(queue, { durable: true });
      await confirmCh.assertQueue(dlq, { durable: true });
      const consumeCh = await conn.createChannel();
      // Adaptive: a channel-wide (global) qos, which RabbitMQ applies to a running consumer at
      // once. Fixed: per consumer (one consumer on this channel: the same bound), which every
      // queue type takes — quorum and stream queues refuse a global one.
      await consumeCh.prefetch(prefetch.value, prefetch.adaptive);
      const suspectsWaiting = (await confirmCh.assertQueue(suspects, { durable: true })).messageCount > 0;
      const source = new RabbitmqSource(name, { queue, dlq, suspects, suspectsWaiting }, prefetch, held, conn, consumeCh, confirmCh);
      // Suspects waiting: isolated first, with nothing taken from the queue meanwhile (see pull).
      if (!suspectsWaiting) await source.#consume();
      return source;
    } catch (err) {
      await conn.close().catch(() => undefined);
      if (refusedGlobal !== undefined) {
        const why = `a number (a fixed prefetch) for queue ${JSON.stringify(queue)}, which refuses the channel-wide prefetch an adaptive one needs (a quorum or stream queue; RabbitMQ: ${refusedGlobal.message})`;
        throw new InvalidOptionError('prefetch', why, options.prefetch ?? {});
      }
      throw err;
    }
  }

  /** Consume the queue (again). */
  async #consume(): Promise<void> {
    this.#consumerTag = (await this.#consumeCh.consume(this.queue, (msg) => this.#onMessage(msg), { noAck: false })).consumerTag;
  }

  /**
   * Stop taking from the queue while suspects wait: what the prefetch would hold beside a suspect
   * out alone comes back `redelivered` if this process dies — hundreds of new suspects per death
   * with a large prefetch, each a round alone. What was taken already is handed out first.
   */
  async #pauseConsuming(): Promise<void> {
    const tag = this.#consumerTag;
    this.#consumerTag = undefined;
    if (tag !== undefined) await this.#consumeCh.cancel(tag);
  }

  #onMessage(msg: ConsumeMessage | null): void {
    if (this.#arrivals.closed) return; // closing: the channel's close requeues it
    if (msg === null) {
      // The server cancels a consumer whose queue was deleted (basic.cancel): no reconnect brings it back.
      this.#arrivals.fail(new QueueDeletedError(this.name, this.queue, 'the server cancelled the consumer'));
    } else if (uncountedRedelivery(msg)) {
      this.#suspects.move(msg);
    } else {
      this.#buffer.push(msg);
      this.#held.took(msg.content.length);
    }
    this.#arrivals.ring();
  }

  #handOut(msg: Message, emit: (delivery: Delivery) => void): void {
    this.#unsettled++;
    this.#suspects.out(msg);
    emit(new RabbitmqDelivery(this.queue, msg, this));
  }

  /** @internal */
  handled(msg: Message): void {
    this.#suspects.handled(msg);
  }

  /** Suspects that were out alone when their consumer died, counted by a copy (see Suspects). */
  get countedRedeliveries(): number {
    return this.#suspects.counted;
  }

  /** Suspects handed out, each alone, since open(): the rounds isolation took here. */
  get isolatedSuspects(): number {
    return this.#suspects.isolated;
  }

  /** Messages held locally, delivered by the broker and not yet demanded (at most the prefetch). */
  get buffered(): number {
    return this.#buffer.length;
  }

  async pull(demand: number, emit: (delivery: Delivery) => void, signal: AbortSignal): Promise<void> {
    const max = pullMax(demand);
    // Unacknowledged = what the handlers and waiting retries hold + what is demanded: a prefetch
    // below that (the rate of slow handlers, times bufferMs) would starve handlers that are free.
    // maxHeldBytes: no more than what fits in the bytes left (at the average size seen) on top of what is held.
    const next = this.prefetch.update(Math.min(max + this.#unsettled + this.#suspects.moving, Number.MAX_SAFE_INTEGER), this.#held.ceiling(this.#unsettled + this.#buffer.length));
    if (next !== undefined && !this.#arrivals.closed) {
      // On a channel the broker closed, amqplib's own error: the consumer learns of it as what it is.
      await this.#consumeCh.prefetch(next, true).catch((err: unknown) => {
        throw new BrokerUnavailableError(this.name, err);
      });
    }
    for (;;) {
      // Suspects waiting: the queue is not consumed meanwhile; what was taken is handed out, then
      // each suspect alone — once nothing runs here, and nothing else handed out meanwhile. The
      // suspect queue empty: the queue is consumed again.
      try {
        if (this.#suspects.pending) await this.#pauseConsuming();
        else if (this.#consumerTag === undefined && !this.#arrivals.closed) await this.#consume();
      } catch (err) {
        throw new BrokerUnavailableError(this.name, err);
      }
      if (!(await this.#arrivals.wait(() => this.#buffer.length > 0 || this.#suspects.ready(), signal))) return;
      if (this.#buffer.length > 0) break;
      if (await this.#suspects.isolate(emit)) return;
    }
    const n = Math.min(max, this.#buffer.length);
    for (const msg of this.#buffer.splice(0, n)) this.#handOut(msg, emit);
  }

  /** `up` until the connection or a channel is lost (amqplib does not reconnect: `down`, reconnects 0), or the source closed. */
  get connection(): ConnectionStats {
    return this.#connection.snapshot();
  }

  /** Ready messages in the queue (not counting the unacknowledged ones this consumer holds). */
  async lag(): Promise<number> {
    try {
      return (await this.#confirmCh.checkQueue(this.queue)).messageCount;
    } catch (err) {
      throw /\b404\b|NOT_FOUND/.test((err as Error).message) ? new QueueDeletedError(this.name, this.queue, 'the server answered 404 NOT_FOUND', err) : err;
    }
  }

  /** The consumer stops: retries waiting out their delay here are republished now (their attempt counted). */
  stopping(): void {
    this.#hurry.abort();
  }

  /** @internal */
  get hurry(): AbortSignal {
    return this.#hurry.signal;
  }

  /** Bytes of the message bodies held taken and unacknowledged (buffered, in the handlers, retries waiting). */
  get heldBytes(): number {
    return this.#held.bytes;
  }

  /** @internal */
  onSettled(bytes: number): void {
    this.#held.released(bytes);
    this.#arrivals.ring();
    this.#unsettled--;
    this.prefetch.settled();
  }

  /** @internal */
  ack(msg: Message): void {
    // Once the channel is gone (closed, or the connection lost) the broker has requeued the
    // message: amqplib throws, and the settlement fails rather than report an ack that never was.
    this.#consumeCh.ack(msg);
  }

  /** @internal Back to the queue unhandled: `basic.nack` with requeue (the `redelivered` flag, counted when it comes: see #count). */
  requeue(msg: Message): void {
    this.#consumeCh.nack(msg, false, true);
  }

  /**
   * @internal Settle `msg` by a confirmed copy (a retry to its queue, a dead letter), then ack it.
   * A retry's copy that fails — refused by the broker (nack: a full queue that rejects publishes),
   * or returned unrouted — gives the original back to its queue (`basic.nack` with requeue) after
   * REQUEUE_AFTER_MS, at once when the consumer stops: its prefetch slot is freed and nothing is
   * lost; the failure rejects (a settle error). A dead letter refused is held and tried again
   * (RabbitmqCopier.deadLetter), given back only when the consumer stops.
   */
  async settleByCopy(queue: string, msg: Message, headers: Record<string, unknown>): Promise<void> {
    if (queue === this.deadLetterQueue) {
      await this.#copier.deadLetter(msg, headers, (m) => this.#giveBack(m));
    } else {
      try {
        await this.#copier.copy(queue, msg, headers);
      } catch (err) {
        // A pause, so that a copy refused for good does not loop (requeued, redelivered, refused) at full speed.
        await pause(REQUEUE_AFTER_MS, this.#hurry.signal);
        this.#giveBack(msg);
        throw err;
      }
    }
    this.ack(msg);
  }

  /** Back to its queue (`basic.nack`, requeue); on a channel already gone the broker requeued it. */
  #giveBack(msg: Message): void {
    try {
      this.requeue(msg);
    } catch {
      // the channel is gone: the broker requeued it already
    }
  }

  /** Dead letters the broker refused (each try), since open(): see `heldDeadLetters`. */
  get deadLetterRefusals(): number {
    return this.#copier.deadLetterRefusals;
  }

  /**
   * Messages held unacknowledged now because their dead letter was refused: each waits to try
   * it again (after 1 s, doubling to 30 s), and goes back to its queue when the consumer stops.
   */
  get heldDeadLetters(): number {
    return this.#copier.heldDeadLetters;
  }

  /** What the broker answered to the last refused dead letter (undefined before any). */
  get lastDeadLetterRefusal(): string | undefined {
    return this.#copier.lastDeadLetterRefusal;
  }

  /** Once however often it is called; a broker that answers nothing is given CLOSE_COUNTING_MS + CLOSE_GRACE_MS, then the socket is ended. */
  close(): Promise<void> {
    this.#hurry.abort();
    this.#connection.down();
    if (!this.#arrivals.close()) return this.#closing ?? Promise.resolve();
    // Unacknowledged messages (buffered or in processing) go back to the queue when the channel closes.
    this.#buffer.length = 0;
    return (this.#closing = closeAmqp(this.#conn, this.name, CLOSE_COUNTING_MS + CLOSE_GRACE_MS, async () => {
      try {
        if (this.#consumerTag !== undefined) await this.#consumeCh.cancel(this.#consumerTag);
      } catch {
        // the channel is already gone
      }
      // A redelivery being counted whose copy is confirmed is acked before the connection goes,
      // or the broker would requeue the original beside its copy (a duplicate). Bounded: a broker
      // that does not confirm has the original requeued, uncounted.
      await this.#suspects.settleMoves(CLOSE_COUNTING_MS);
    }));
  }
}
