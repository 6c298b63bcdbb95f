/**
 * An SQS queue as a BrokerSource. SQS has no backpressure of its own: nothing stops a
 * consumer from receiving faster than it works, so the demand is the only brake. Each
 * receive asks for min(demand, 10) messages (SQS's ceiling) with a long poll; a message's
 * visibility is extended while its handler runs (`extend`), it is deleted only after
 * processing, a retry makes it visible again after the delay (ChangeMessageVisibility), and a
 * dead letter is sent to `<queue>-dead` with the reason, then deleted. A message whose visibility
 * timeout passed and that another consumer received meanwhile is no longer this one's: the service
 * refuses its stale receipt handle, and its extension, ack, retry or dead letter rejects with
 * LeaseLostError (the handler's signal aborts at the extension; a dead letter checks the handle
 * before copying, so nothing is copied). A receive that failed
 * for a while (no HTTP answer, the service failing or throttling: sqs-errors.ts) is tried again,
 * RECEIVE_TRIES times in all with a growing pause (the connection `reconnecting` meanwhile, `up`
 * at the next answer); past them the consumer fails with BrokerUnavailableError. One refused for
 * good (credentials, a permission, the queue gone) fails it at once with the error that says so.
 */
import type { Message } from '@aws-sdk/client-sqs';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { optInt, optionKeys, optKnownKeys } from '../core/index.js';
import type { SqsConnectionOptions } from './sqs-connection.js';
import { checkSqsConnection, clientRequestTimeoutMs, queueUrl, sqsClient, sqsRequestTimeout, sqsWhere } from './sqs-connection.js';
import { sqsError, sqsLeaseLost, sqsTransient } from './sqs-errors.js';
import { LeaseLostError } from '../brokers/handler-timeout.js';
import { ConnectionTracker } from '../brokers/connection-state.js';
import type { ConnectionStats } from '../brokers/connection-state.js';
import type { BrokerSource } from '../brokers/source.js';
import { pause, pullMax } from '../brokers/source.js';
import type { Delivery } from '../brokers/delivery.js';
import { DeliveryBase } from '../brokers/delivery.js';
import { nonEmpty } from '../brokers/options.js';
import { BrokerRefusedError } from '../brokers/broker-error.js';
import { DeadLetterTooLargeError } from '../brokers/dead-letter-fit.js';
import { SQS_MAX_MESSAGE_BYTES, sqsDeadLetter } from './sqs-dead-letter.js';
import { argOptions } from '../core/option-keys.js';

export type { SqsConnectionOptions } from './sqs-connection.js';
export { SQS_REQUEST_TIMEOUT_MAX_MS } from './sqs-connection.js';

export interface SqsSourceOptions extends SqsConnectionOptions {
  /** Queue name; created when missing. Non-empty. */
  readonly queue: string;
  /** Dead-letter queue name (created). @default `${queue}-dead` */
  readonly deadLetterQueue?: string;
  /** Visibility timeout given on receive and on each extension, s. Integer in [1, 43200]. @default 30 */
  readonly visibilityTimeoutS?: number;
  /** Long-poll wait of one receive, s. Integer in [0, 20]. @default 1 */
  readonly waitTimeS?: number;
  /**
   * A dead letter that cannot be sent as it is (past the dead-letter queue's size limit even with
   * its error text cut, or refused by the service for its request): the message stays in its
   * queue, invisible for this long, s, then comes back to be dead-lettered again; each refusal
   * counted in `deadLetterRefusals`. Integer in [0, 43200]. @default 900
   */
  readonly deadLetterHoldS?: number;
}

/** Receives in a row that failed for a while (sqsTransient) before the source gives up; the pause before the n-th next try is min(2 s, 100 ms · 2^n). */
export const RECEIVE_TRIES = 10;

class SqsDelivery extends DeliveryBase {
  constructor(
    source: string,
    private readonly msg: Message,
    private readonly owner: SqsSource,
  ) {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(msg.MessageAttributes ?? {})) if (v.StringValue !== undefined) headers[k] = v.StringValue;
    super({ broker: 'sqs', source, id: msg.MessageId ?? '', body: Buffer.from(msg.Body ?? '', 'utf8'), headers, attempt: Number(msg.Attributes?.ApproximateReceiveCount ?? 1) });
  }

  /** A settlement's request; its failure named as the source's (BrokerUnavailableError for no answer: sqs-errors.ts), a stale receipt handle a LeaseLostError. */
  async #call(request: () => Promise<unknown>): Promise<void> {
    try {
      await request();
    } catch (err) {
      const code = sqsLeaseLost(err);
      if (code !== undefined) throw new LeaseLostError(this.owner.name, this.id, `the service refused its receipt handle, ${code}: its visibility timeout passed and it was received by another consumer, or deleted`);
      throw sqsError(this.owner.name, this.owner.queue, err);
    }
  }

  protected doAck(): Promise<void> {
    return this.#call(() => this.owner.client.send(new DeleteMessageCommand({ QueueUrl: this.owner.url, ReceiptHandle: this.msg.ReceiptHandle })));
  }

  protected doRetry(delayMs: number): Promise<void> {
    return this.#call(() => this.owner.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.owner.url, ReceiptHandle: this.msg.ReceiptHandle, VisibilityTimeout: Math.min(43_200, Math.ceil(delayMs / 1000)) })));
  }

  protected async doDeadLetter(reason: string): Promise<void> {
    const o = this.owner;
    // Still this consumer's (its handle honoured) before the copy: one another consumer received
    // is not copied (LeaseLostError). Between this and the delete, a copy can still go twice.
    await this.doExtend();
    try {
      const attrs = sqsDeadLetter(this.msg, { where: o.name, reason, attempt: this.attempt, origin: `${this.source}:${this.id}`, limit: o.deadLetterLimit, holdS: o.deadLetterHoldS });
      await this.#call(() => o.client.send(new SendMessageCommand({ QueueUrl: o.deadUrl, MessageBody: this.msg.Body ?? '', MessageAttributes: attrs })));
    } catch (err) {
      // Too large, or refused by the service (a limit it counts otherwise): asking again gets the same answer.
      if (err instanceof DeadLetterTooLargeError || (err instanceof BrokerRefusedError && err.refusal === 'request')) await o.held(this.msg, err);
      throw err;
    }
    await this.doAck();
  }

  protected override doExtend(): Promise<void> {
    return this.#call(() => this.owner.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.owner.url, ReceiptHandle: this.msg.ReceiptHandle, VisibilityTimeout: this.owner.visibilityTimeoutS })));
  }
}

const SQS_SOURCE_KEYS = optionKeys<SqsSourceOptions>({ endpoint: true, region: true, credentials: true, client: true, queue: true, deadLetterQueue: true, visibilityTimeoutS: true, waitTimeS: true, deadLetterHoldS: true, requestTimeoutMs: true });

/** A queue's MaximumMessageSize, bytes; SQS_MAX_MESSAGE_BYTES where the service names none (ElasticMQ) or does not say. */
async function maximumMessageSize(client: SQSClient, url: string): Promise<number> {
  const r = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['MaximumMessageSize'] })).catch(() => undefined);
  const n = Number(r?.Attributes?.MaximumMessageSize);
  return Number.isInteger(n) && n > 0 ? n : SQS_MAX_MESSAGE_BYTES;
}

export class SqsSource implements BrokerSource {
  readonly name: string;
  readonly queue: string;
  readonly url: string;
  readonly deadUrl: string;
  readonly client: SQSClient;
  readonly visibilityTimeoutS: number;
  readonly #waitTimeS: number;
  /** A receive's bound: its long poll plus requestTimeoutMs, or plus the given client's own requestTimeout (undefined: a client that names none, its own bound). */
  readonly #receiveTimeoutMs: number | undefined;
  readonly #ownsClient: boolean;
  readonly #connection = new ConnectionTracker();
  #closed = false;
  /** The dead-letter queue's MaximumMessageSize (SQS_MAX_MESSAGE_BYTES where it names none), bytes. */
  readonly deadLetterLimit: number;
  readonly deadLetterHoldS: number;
  #deadLetterRefusals = 0;
  #lastDeadLetterRefusal: string | undefined;

  private constructor(name: string, queue: string, url: string, deadUrl: string, client: SQSClient, ownsClient: boolean, visibility: number, wait: number, requestTimeoutMs: number | undefined, dead: { limit: number; holdS: number }) {
    this.name = name;
    this.deadLetterLimit = dead.limit;
    this.deadLetterHoldS = dead.holdS;
    this.queue = queue;
    this.url = url;
    this.deadUrl = deadUrl;
    this.client = client;
    this.#ownsClient = ownsClient;
    this.visibilityTimeoutS = visibility;
    this.#waitTimeS = wait;
    this.#receiveTimeoutMs = requestTimeoutMs === undefined ? undefined : wait * 1000 + requestTimeoutMs;
  }

  static async open(options: SqsSourceOptions): Promise<SqsSource> {
    argOptions('SqsSource', options, false);
    optKnownKeys('SqsSource', options, SQS_SOURCE_KEYS);
    const ours = sqsRequestTimeout(options);
    checkSqsConnection(options);
    const queue = nonEmpty('queue', options.queue);
    const dead = nonEmpty('deadLetterQueue', options.deadLetterQueue ?? `${queue}-dead`);
    const visibility = optInt('visibilityTimeoutS', options.visibilityTimeoutS ?? 30, 1, 43_200);
    const wait = optInt('waitTimeS', options.waitTimeS ?? 1, 0, 20);
    const holdS = optInt('deadLetterHoldS', options.deadLetterHoldS ?? 900, 0, 43_200);
    const where = sqsWhere(options);
    const client = sqsClient(options);
    // A client of the caller's: its own requestTimeout (when its handler says) gets the long poll on top, as ours does.
    const requestTimeoutMs = options.client === undefined ? ours : await clientRequestTimeoutMs(options.client);
    try {
      const url = await queueUrl(client, where, queue);
      const deadUrl = await queueUrl(client, where, dead);
      const limit = await maximumMessageSize(client, deadUrl);
      return new SqsSource(`${where} queue ${JSON.stringify(queue)}`, queue, url, deadUrl, client, options.client === undefined, visibility, wait, requestTimeoutMs, { limit, holdS });
    } catch (err) {
      if (options.client === undefined) client.destroy();
      throw err;
    }
  }

  async pull(demand: number, emit: (delivery: Delivery) => void, signal: AbortSignal): Promise<void> {
    const max = pullMax(demand);
    let emitted = 0;
    let failures = 0;
    while (emitted === 0 && !signal.aborted && !this.#closed) {
      let msgs: Message[];
      try {
        const r = await this.client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.url,
            MaxNumberOfMessages: Math.min(10, max),
            WaitTimeSeconds: this.#waitTimeS,
            VisibilityTimeout: this.visibilityTimeoutS,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
            MessageAttributeNames: ['All'],
          }),
          this.#receiveTimeoutMs === undefined ? { abortSignal: signal } : { abortSignal: signal, requestTimeout: this.#receiveTimeoutMs },
        );
        msgs = r.Messages ?? [];
        this.#connection.up();
        failures = 0;
      } catch (err) {
        if (signal.aborted || this.#closed) return;
        if (sqsTransient(err) && ++failures < RECEIVE_TRIES) {
          this.#connection.lost();
          await pause(Math.min(2000, 100 * 2 ** failures), signal);
          continue;
        }
        this.#connection.down();
        throw sqsError(this.name, this.queue, err);
      }
      for (const m of msgs) {
        emitted++;
        emit(new SqsDelivery(this.queue, m, this));
      }
    }
  }

  /** `up` while receives are answered; `reconnecting` from one that failed for a while (no answer, a 5xx, throttling) until the next that succeeds; `down` once they are given up, or closed. */
  get connection(): ConnectionStats {
    return this.#connection.snapshot();
  }

  /** Dead letters that could not be sent (too large, or refused by the service): each held its message for `deadLetterHoldS`. */
  get deadLetterRefusals(): number {
    return this.#deadLetterRefusals;
  }

  /** Why the last one could not be sent (the error's message); undefined before any. */
  get lastDeadLetterRefusal(): string | undefined {
    return this.#lastDeadLetterRefusal;
  }

  /** @internal A dead letter that cannot be sent: counted, and its message held invisible in its queue for deadLetterHoldS (not lost, not back at once). */
  async held(msg: Message, why: Error): Promise<void> {
    this.#deadLetterRefusals++;
    this.#lastDeadLetterRefusal = why.message;
    // A hold that fails leaves it to come back after its visibility timeout.
    await this.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.url, ReceiptHandle: msg.ReceiptHandle, VisibilityTimeout: this.deadLetterHoldS })).catch(() => undefined);
  }

  /** ApproximateNumberOfMessages: visible messages waiting in the queue. */
  async lag(): Promise<number> {
    let r;
    try {
      r = await this.client.send(new GetQueueAttributesCommand({ QueueUrl: this.url, AttributeNames: ['ApproximateNumberOfMessages'] }));
    } catch (err) {
      throw sqsError(this.name, this.queue, err);
    }
    return Number(r.Attributes?.ApproximateNumberOfMessages ?? 0);
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#connection.down();
      if (this.#ownsClient) this.client.destroy();
    }
    return Promise.resolve();
  }
}
