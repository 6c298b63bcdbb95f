/**
 * One Redis Streams entry handed to a handler (see RedisStreamsSource): ack is `XACK`; a retry
 * leaves it pending and sets its idle time so that a claim takes it after the delay; a dead
 * letter copies it to the dead stream and acks it in one script, only while it is still pending
 * in the group; `extend` resets the idle time of an entry this consumer still owns.
 */
import type { Redis } from 'ioredis';
import { DeliveryBase } from '../brokers/delivery.js';
import { LeaseLostError } from '../brokers/handler-timeout.js';

/** What a delivery needs of its source. */
export interface RedisStreamsOwner {
  readonly name: string;
  readonly stream: string;
  readonly group: string;
  readonly consumer: string;
  readonly claimIdleMs: number;
  readonly bodyField: string;
  readonly deadLetterStream: string;
  readonly client: Redis;
  /** A delivery was settled (or its settlement failed): a later claim of its entry is a new attempt. */
  released(id: string): void;
  /** A dead letter of `delivery` (with `reason`) went through (`err` undefined) or failed with `err`: the error to reject with (it may say the entry is parked now). */
  deadLetterEnded(delivery: RedisStreamsDelivery, reason: string, err?: unknown): unknown;
}

export class RedisStreamsDelivery extends DeliveryBase {
  constructor(
    source: string,
    id: string,
    fields: Buffer[],
    attempt: number,
    private readonly owner: RedisStreamsOwner,
  ) {
    const headers: Record<string, string> = {};
    let body: Buffer = Buffer.alloc(0);
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const k = fields[i]!.toString();
      if (k === owner.bodyField) body = fields[i + 1]!;
      else headers[k] = fields[i + 1]!.toString();
    }
    super({ broker: 'redis-streams', source, id, body, headers, attempt }, () => owner.released(id));
  }

  protected async doAck(): Promise<void> {
    // XACK answers how many it acked: 0 is an entry no longer pending, not an ack.
    if ((await this.owner.client.xack(this.owner.stream, this.owner.group, this.id)) === 0) throw this.#notPending('ack');
  }

  protected async doRetry(delayMs: number): Promise<void> {
    // Claimable once idle >= claimIdleMs: set the idle time so that moment is delayMs from now.
    const idle = Math.max(0, this.owner.claimIdleMs - delayMs);
    const claimed = (await this.owner.client.call('XCLAIM', this.owner.stream, this.owner.group, this.owner.consumer, '0', this.id, 'IDLE', String(Math.floor(idle)), 'JUSTID')) as unknown[];
    if (claimed.length === 0) throw this.#notPending('retry');
  }

  /** The entry is not pending in the group: acked by a peer that claimed it, or lost by the server (a restart without persistence). */
  #notPending(what: string): Error {
    return new Error(`${this.owner.name}: ${what} of entry ${this.id} failed: it is no longer pending in the group (acked by a consumer that claimed it, or lost by the server)`);
  }

  protected async doDeadLetter(reason: string): Promise<void> {
    try {
      await this.#deadLetter(reason);
    } catch (err) {
      throw this.owner.deadLetterEnded(this, reason, err);
    }
    this.owner.deadLetterEnded(this, reason);
  }

  /** @internal The dead letter once more (a parked entry, at the operator's word): the same copy, settled or not. */
  deadLetterAgain(reason: string): Promise<void> {
    return this.#deadLetter(reason);
  }

  async #deadLetter(reason: string): Promise<void> {
    const fields: (string | Buffer)[] = [this.owner.bodyField, Buffer.from(this.body)];
    for (const [k, v] of Object.entries(this.headers)) fields.push(k, v);
    fields.push('sluice-error', reason, 'sluice-attempts', String(this.attempt), 'sluice-source', `${this.owner.stream}:${this.id}`);
    const { client, stream, group, deadLetterStream } = this.owner;
    // Both streams are KEYS: a cluster (or a proxy) routes on them, and refuses two slots (CROSSSLOT).
    if (fields.length <= LUA_FIELDS_MAX) {
      if ((await client.eval(DEAD_LETTER_SCRIPT, 2, stream, deadLetterStream, group, this.id, ...fields)) === 0) throw this.#notPending('dead letter');
      return;
    }
    // Too many fields for one call from Lua: checked, copied, acked in three commands. A peer's
    // ack between them leaves a copy of what it handled (and this settle error); nothing is lost.
    // Deleting the copy when XACK answers 0 could lose one: ioredis sends a command again after a reconnect.
    if ((await client.xpending(stream, group, this.id, this.id, 1)).length === 0) throw this.#notPending('dead letter');
    await client.xadd(deadLetterStream, '*', ...fields);
    if ((await client.xack(stream, group, this.id)) === 0) throw this.#notPending('dead letter');
  }

  /** The entry another consumer's (or no longer pending in the group): LeaseLostError, and no extension. */
  protected override async doExtend(): Promise<void> {
    const o = this.owner;
    const owner = (await o.client.eval(EXTEND_SCRIPT, 1, o.stream, o.group, o.consumer, this.id)) as string | number;
    if (owner === 1) return;
    throw new LeaseLostError(o.name, this.id, owner === 0 ? 'no longer pending in the group: acked by a peer, or the group recreated' : `claimed by ${JSON.stringify(String(owner))}`);
  }
}

/** Reset the idle time of an entry still pending with this consumer (1); one taken over by another is left alone (its owner), one not pending is 0. */
const EXTEND_SCRIPT = `local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #p == 0 then return 0 end
if p[1][2] ~= ARGV[2] then return p[1][2] end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1`;

/**
 * Copy an entry still pending in the group to the dead stream and ack it, or do nothing (0): one
 * a peer claimed and acked, or the server lost, is not copied. Checked before the XADD, not by
 * XACK's count after it: a script is not rolled back, so an XADD refused (WRONGTYPE) after the
 * XACK would lose the entry.
 */
const DEAD_LETTER_SCRIPT = `if #redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1) == 0 then return 0 end
redis.call('XADD', KEYS[2], '*', unpack(ARGV, 3))
return redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])`;

/** Fields one XADD from a script may take: Redis's Lua unpacks at most ~8,000 values into one call ("too many results to unpack"). */
const LUA_FIELDS_MAX = 7000;
