/**
 * A RabbitMQ message handed to a handler, and how its attempt is counted. Classic queues count
 * nothing themselves: the count travels in the `x-sluice-attempt` header of the copies this
 * adapter republishes (a retry; a redelivery counted, see RabbitmqSource), besides a quorum
 * queue's `x-delivery-count` and the broker's `x-death` refusals.
 */
import type { Message } from 'amqplib';
import { DeliveryBase, stringHeaders } from '../brokers/delivery.js';
import { pause } from '../brokers/source.js';

export const ATTEMPT_HEADER = 'x-sluice-attempt';
export const ERROR_HEADER = 'x-sluice-error';

/** What a delivery needs of its source (an interface, so that the source's module is not imported back). */
export interface DeliveryOwner {
  readonly deadLetterQueue: string;
  readonly hurry: AbortSignal;
  onSettled(bytes: number): void;
  /** Its handler is done (a settlement begins): no longer running here, as far as isolation goes. */
  handled(msg: Message): void;
  ack(msg: Message): void;
  requeue(msg: Message): void;
  settleByCopy(queue: string, msg: Message, headers: Record<string, unknown>): Promise<void>;
}

/**
 * How often the broker dead-lettered this message out of `queue` because a consumer refused it
 * (`basic.reject` / `basic.nack` without requeue) or a quorum queue's delivery limit was reached:
 * the `x-death` entries of that queue for those reasons. A queue whose dead-letter exchange routes
 * back to itself (or through a queue with a TTL) brings such a message back for ever, the broker
 * counting each turn here.
 */
function refusals(xDeath: unknown, queue: string): number {
  if (!Array.isArray(xDeath)) return 0;
  let n = 0;
  for (const d of xDeath as unknown[]) {
    const entry = d as { queue?: unknown; reason?: unknown; count?: unknown } | null;
    if (entry?.queue !== queue || (entry.reason !== 'rejected' && entry.reason !== 'delivery_limit')) continue;
    const count = Number(entry.count);
    if (Number.isSafeInteger(count) && count > 0) n += count;
  }
  return n;
}

/** The attempt `msg` is, as delivered from `queue`: the most of this adapter's header, the quorum queue's count and the refusals. */
export function attemptOf(msg: Message, queue: string): number {
  const counted = Number(msg.properties.headers?.[ATTEMPT_HEADER] ?? 1);
  const quorum = Number(msg.properties.headers?.['x-delivery-count'] ?? 0);
  const refused = refusals(msg.properties.headers?.['x-death'], queue);
  return Math.max(Number.isInteger(counted) && counted > 0 ? counted : 1, quorum + 1, refused + 1);
}

/**
 * Delivered before (`redelivered`: a consumer died, lost its connection, or gave it back, without
 * settling it) and counted by nobody: a classic queue keeps no delivery count, where a quorum
 * queue adds `x-delivery-count` to every redelivery.
 */
export function uncountedRedelivery(msg: Message): boolean {
  return msg.fields.redelivered && msg.properties.headers?.['x-delivery-count'] === undefined;
}

export class RabbitmqDelivery extends DeliveryBase {
  constructor(
    source: string,
    private readonly msg: Message,
    private readonly owner: DeliveryOwner,
  ) {
    super({ broker: 'rabbitmq', source, id: String(msg.fields.deliveryTag), body: msg.content, headers: stringHeaders(msg.properties.headers), attempt: attemptOf(msg, source) }, () => owner.onSettled(msg.content.length));
  }

  protected doAck(): Promise<void> {
    this.owner.handled(this.msg);
    this.owner.ack(this.msg);
    return Promise.resolve();
  }

  protected async doRetry(delayMs: number, reason: string): Promise<void> {
    this.owner.handled(this.msg);
    // The original stays unacknowledged while it waits, so if this process dies now the broker
    // redelivers it; it counts against the prefetch, which counts it in (see pull) so that it
    // does not take a handler's message. A consumer that stops cuts the wait short and
    // republishes at once (the attempt counted); a lost connection ends it too (the republish
    // then fails, and the broker requeues the original).
    if (delayMs > 0) await pause(delayMs, this.owner.hurry);
    await this.owner.settleByCopy(this.source, this.msg, { [ATTEMPT_HEADER]: this.attempt + 1, [ERROR_HEADER]: reason });
  }

  protected override doRelease(): Promise<void> {
    this.owner.handled(this.msg);
    this.owner.requeue(this.msg);
    return Promise.resolve();
  }

  protected async doDeadLetter(reason: string): Promise<void> {
    this.owner.handled(this.msg);
    await this.owner.settleByCopy(this.owner.deadLetterQueue, this.msg, { [ATTEMPT_HEADER]: this.attempt, [ERROR_HEADER]: reason, 'x-sluice-source': this.source });
  }
}
