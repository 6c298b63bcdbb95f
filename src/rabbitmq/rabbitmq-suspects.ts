/**
 * A classic queue's redeliveries, isolated (see RabbitmqSource and docs/brokers.md). A
 * redelivery nobody counted — its consumer died, lost its connection or gave it back — is a
 * suspect: which of what that consumer held killed it cannot be told, so none is counted yet. It
 * is moved (a confirmed copy, headers as they were, then the ack) to the suspect queue, whose
 * messages are handed out one at a time with nothing else out of this source (which takes nothing
 * from its queue meanwhile: RabbitmqSource.pull). A death then points
 * at the one that was out: it comes back redelivered from the suspect queue, and only it is
 * counted — a copy with the attempt one more, to the suspect queue's tail, then the ack.
 */
import type { Message } from 'amqplib';
import type { Delivery } from '../brokers/delivery.js';
import { ATTEMPT_HEADER, attemptOf } from './rabbitmq-delivery.js';

/** What isolation needs of its source. */
export interface SuspectsOwner {
  /** The queue consumed: whose attempts a suspect carries. */
  readonly queue: string;
  settleByCopy(queue: string, msg: Message, headers: Record<string, unknown>): Promise<void>;
  /** `basic.get` from `queue` (unacknowledged); rejects with BrokerUnavailableError. */
  get(queue: string): Promise<Message | false>;
  /** Hand `msg` out to the pipeline (counted unsettled). */
  handOut(msg: Message, emit: (delivery: Delivery) => void): void;
  /** Something changed: a waiting pull looks again. */
  ring(): void;
}

export class Suspects {
  /** Where suspects wait (declared by open(), durable). */
  readonly queue: string;
  readonly #owner: SuspectsOwner;
  /** The suspect queue may hold messages: isolation comes before the buffer. */
  #maybe = false;
  /** Handed out and whose handler has not finished (no settlement begun): what isolation waits for. */
  readonly #busy = new Set<Message>();
  /** Redeliveries being moved (copied, then acked): they hold a prefetch slot meanwhile. */
  readonly #moving = new Set<Promise<void>>();
  #counted = 0;
  #isolated = 0;

  constructor(queue: string, owner: SuspectsOwner, maybe: boolean) {
    this.queue = queue;
    this.#owner = owner;
    this.#maybe = maybe;
  }

  /** Suspects that were out alone when their consumer died, counted by a copy. */
  get counted(): number {
    return this.#counted;
  }

  /** Suspects handed out, each alone, since open(): the rounds isolation took. */
  get isolated(): number {
    return this.#isolated;
  }

  /** Redeliveries being moved now. */
  get moving(): number {
    return this.#moving.size;
  }

  /** Whether a suspect may be handed out now: some may wait, and nothing is out. */
  ready(): boolean {
    return this.#maybe && this.#busy.size === 0;
  }

  /** Whether the suspect queue may hold messages (then a pull isolates before the buffer). */
  get pending(): boolean {
    return this.#maybe;
  }

  /** Move a redelivery nobody counted to the suspect queue; a copy that fails gives it back (settleByCopy). */
  move(msg: Message): void {
    const move: Promise<void> = this.#owner
      .settleByCopy(this.queue, msg, {})
      .then(
        () => void (this.#maybe = true),
        () => undefined,
      )
      .finally(() => {
        this.#moving.delete(move);
        this.#owner.ring();
      });
    this.#moving.add(move);
  }

  /** Handed out (from either queue): isolation waits until its handler is done. */
  out(msg: Message): void {
    this.#busy.add(msg);
  }

  /** Its handler is done (a settlement begins). */
  handled(msg: Message): void {
    if (this.#busy.delete(msg)) this.#owner.ring();
  }

  /**
   * One message from the suspect queue, handed out alone (nothing else is handed out until it is
   * handled). One that comes redelivered was out alone when its consumer died: counted — a copy
   * with the attempt one more, to the suspect queue's tail, then the ack. False when nothing was
   * handed out (the queue empty, or one counted).
   */
  async isolate(emit: (delivery: Delivery) => void): Promise<boolean> {
    const m = await this.#owner.get(this.queue);
    if (m === false) {
      this.#maybe = false;
      return false;
    }
    if (m.fields.redelivered) {
      await this.#owner.settleByCopy(this.queue, m, { [ATTEMPT_HEADER]: attemptOf(m, this.#owner.queue) + 1 }).then(
        () => void this.#counted++,
        () => undefined,
      );
      return false;
    }
    this.#isolated++;
    this.#owner.handOut(m, emit);
    return true;
  }

  /** Moves whose copy is confirmed are acked before the connection goes (or the broker would requeue the original beside its copy): waited for at most `ms`. */
  async settleMoves(ms: number): Promise<void> {
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.#moving]), new Promise((r) => (bound = setTimeout(r, ms)))]);
    clearTimeout(bound);
  }
}
