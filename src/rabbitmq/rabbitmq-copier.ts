/**
 * The copies a RabbitMQ source settles by (a retry, a counted redelivery, a dead letter): sent
 * through a confirm channel, mandatory, so that the broker's confirm — or its basic.return, for a
 * queue gone — says where each one went. A dead letter the broker refuses is tried again here
 * after a backoff, its original held unacknowledged meanwhile (see deadLetter).
 */
import type { ChannelModel, ConfirmChannel, Message } from 'amqplib';
import type amqp from 'amqplib';
import { pause } from '../brokers/source.js';
import { backoffDelay } from '../retry/index.js';

interface Republished {
  readonly queue: string;
  readonly content: Buffer;
  /** The broker's reply code and text, once it returned the copy. */
  returned: string | undefined;
}

/** A copy the broker returned: no queue by that name (deleted). */
class UnroutedError extends Error {
  override get name(): string {
    return 'UnroutedError';
  }
}

/** The first wait before a refused dead letter is tried again; it doubles up to HOLD_MAX_MS. */
const HOLD_FIRST_MS = 1000;
/** The longest wait between two tries of a refused dead letter. */
const HOLD_MAX_MS = 30_000;

export class RabbitmqCopier {
  /** Copies published and not yet confirmed, for the broker's basic.return to find. */
  readonly #republishing = new Set<Republished>();
  #deadLetterRefusals = 0;
  #lastDeadLetterRefusal: string | undefined;
  /** Originals whose dead letter was refused, held unacknowledged until the next try. */
  readonly #heldDeadLetters = new Set<Message>();

  constructor(
    private readonly name: string,
    private readonly deadLetterQueue: string,
    private readonly conn: ChannelModel,
    private readonly confirmCh: ConfirmChannel,
    /** Aborts when the consumer stops or the connection is lost: a held dead letter stops waiting. */
    private readonly hurry: AbortSignal,
  ) {
    confirmCh.on('return', (m: amqp.Message) => this.#returned(m));
  }

  /** Dead letters the broker refused (each try), since open(). */
  get deadLetterRefusals(): number {
    return this.#deadLetterRefusals;
  }

  /** Messages held unacknowledged now because their dead letter was refused, waiting to try it again. */
  get heldDeadLetters(): number {
    return this.#heldDeadLetters.size;
  }

  /** What the broker answered to the last refused dead letter (undefined before any). */
  get lastDeadLetterRefusal(): string | undefined {
    return this.#lastDeadLetterRefusal;
  }

  /**
   * A dead letter, confirmed (the caller acks the original after it). Refused — the dead-letter
   * queue full with reject-publish, or gone and not declared again — the original is held
   * unacknowledged and the copy tried again after 1 s, doubling to 30 s, each refusal counted:
   * given back instead, it would come again as a redelivery, counted by a copy into its queue —
   * the attempt climbing and the copies looping for as long as the refusal lasts. The consumer
   * stopping or the connection lost (`hurry`) ends the wait: `giveBack(msg)`, and the refusal rejects.
   */
  async deadLetter(msg: Message, headers: Record<string, unknown>, giveBack: (msg: Message) => void): Promise<void> {
    for (let tries = 0; ; tries++) {
      try {
        await this.copy(this.deadLetterQueue, msg, headers);
        return;
      } catch (err) {
        this.#deadLetterRefusals++;
        this.#lastDeadLetterRefusal = err instanceof Error ? err.message : String(err);
        this.#heldDeadLetters.add(msg);
        try {
          if (!this.hurry.aborted) await pause(backoffDelay('none', tries + 1, HOLD_FIRST_MS, HOLD_FIRST_MS, HOLD_MAX_MS, Math.random), this.hurry);
        } finally {
          this.#heldDeadLetters.delete(msg);
        }
        if (this.hurry.aborted) {
          giveBack(msg);
          throw err;
        }
      }
    }
  }

  /** A copy to `queue`, confirmed. A dead-letter queue deleted while consuming is declared again (as open() does), and the copy sent once more. */
  async copy(queue: string, msg: Message, headers: Record<string, unknown>): Promise<void> {
    try {
      await this.republish(queue, msg, headers);
    } catch (err) {
      if (!(err instanceof UnroutedError) || queue !== this.deadLetterQueue) throw err;
      // On a channel of its own: a refused declare (406, the queue declared again otherwise) closes only that one.
      const ch = await this.conn.createChannel();
      ch.on('error', () => undefined);
      try {
        await ch.assertQueue(queue, { durable: true });
      } finally {
        await ch.close().catch(() => undefined);
      }
      await this.republish(queue, msg, headers);
    }
  }

  /** Publish a copy with extra headers and wait for the broker's confirm. */
  async republish(queue: string, msg: Message, headers: Record<string, unknown>): Promise<void> {
    const props = msg.properties;
    const options: amqp.Options.Publish = { headers: { ...props.headers, ...headers }, persistent: true };
    const contentType: unknown = props.contentType;
    if (typeof contentType === 'string') options.contentType = contentType;
    if (props.messageId !== undefined) options.messageId = props.messageId as string;
    // Mandatory: a queue gone (deleted while consuming) returns the copy instead of dropping it,
    // and the broker confirms an unroutable message all the same; its basic.return comes first.
    const sent: Republished = { queue, content: msg.content, returned: undefined };
    this.#republishing.add(sent);
    try {
      await new Promise<void>((resolve, reject) => {
        this.confirmCh.sendToQueue(queue, msg.content, { ...options, mandatory: true }, (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()));
      });
    } finally {
      this.#republishing.delete(sent);
    }
    if (sent.returned !== undefined) throw new UnroutedError(`${this.name}: the copy sent to queue ${JSON.stringify(queue)} came back unrouted (${sent.returned}): the queue is gone`);
  }

  /** A copy the broker returned: marks the first republish in progress it can be (same queue, same body). */
  #returned(m: amqp.Message): void {
    for (const sent of this.#republishing) {
      if (sent.returned === undefined && sent.queue === m.fields.routingKey && sent.content.equals(m.content)) {
        sent.returned = `${String((m.fields as { replyCode?: unknown }).replyCode)} ${String((m.fields as { replyText?: unknown }).replyText)}`;
        return;
      }
    }
  }
}
