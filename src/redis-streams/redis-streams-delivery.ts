/**
 * One Redis Streams entry handed to a handler (see RedisStreamsSource). Every settlement and
 * extension acts only on an entry still pending with this consumer, checked in the same script:
 * one a peer has claimed (its handler here outlasted claimIdleMs) is the peer's, and this
 * consumer's late ack, retry, dead letter or extend rejects with LeaseLostError, leaving it to
 * the peer. Ack is `XACK`; a retry leaves it pending and sets its idle time so that a claim takes
 * it after the delay; a dead letter copies it to the dead stream and acks it; `extend` resets
 * its idle time.
 */
import { createHash } from 'node:crypto';
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
    const o = this.owner;
    this.#owned('ack', await ACK_SCRIPT.run(o.client, 1, o.stream, o.group, o.consumer, this.id));
  }

  protected async doRetry(delayMs: number): Promise<void> {
    // Claimable once idle >= claimIdleMs: set the idle time so that moment is delayMs from now.
    const idle = Math.floor(Math.max(0, this.owner.claimIdleMs - delayMs));
    const o = this.owner;
    this.#owned('retry', await IDLE_SCRIPT.run(o.client, 1, o.stream, o.group, o.consumer, this.id, String(idle)));
  }

  /** What an owner-checked script answered: 1 done; 0 the entry no longer pending; else the consumer that owns it now. */
  #owned(what: string, answer: unknown): void {
    if (answer === 1) return;
    if (answer === 0) throw this.#notPending(what);
    throw new LeaseLostError(this.owner.name, this.id, `claimed by ${JSON.stringify(String(answer))}`);
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
    return this.#deadLetter(reason, '');
  }

  /** `consumer` the one it must still be pending with, or '' for any (a parked entry, at the operator's word). */
  async #deadLetter(reason: string, consumer = this.owner.consumer): Promise<void> {
    const fields: (string | Buffer)[] = [this.owner.bodyField, Buffer.from(this.body)];
    for (const [k, v] of Object.entries(this.headers)) fields.push(k, v);
    fields.push('sluice-error', reason, 'sluice-attempts', String(this.attempt), 'sluice-source', `${this.owner.stream}:${this.id}`);
    const { client, stream, group, deadLetterStream } = this.owner;
    // Both streams are KEYS: a cluster (or a proxy) routes on them, and refuses two slots (CROSSSLOT).
    if (fields.length <= LUA_FIELDS_MAX) {
      this.#owned('dead letter', await DEAD_LETTER_SCRIPT.run(client, 2, stream, deadLetterStream, group, consumer, this.id, ...fields));
      return;
    }
    // Too many fields for one call from Lua: checked, copied, acked in three commands. A peer's
    // claim and ack between them leaves a copy of what it handled (and this settle error); nothing
    // is lost. Deleting the copy when XACK answers 0 could lose one: ioredis sends a command again after a reconnect.
    const row = (await client.xpending(stream, group, this.id, this.id, 1)) as [string, string][];
    if (row.length === 0) throw this.#notPending('dead letter');
    if (consumer !== '' && row[0]![1] !== consumer) this.#owned('dead letter', row[0]![1]);
    await client.xadd(deadLetterStream, '*', ...fields);
    if ((await client.xack(stream, group, this.id)) === 0) throw this.#notPending('dead letter');
  }

  /** The entry another consumer's (or no longer pending in the group): LeaseLostError, and no extension. */
  protected override async doExtend(): Promise<void> {
    const o = this.owner;
    const answer = await IDLE_SCRIPT.run(o.client, 1, o.stream, o.group, o.consumer, this.id, '0');
    if (answer === 0) throw new LeaseLostError(o.name, this.id, 'no longer pending in the group: acked by a peer, or the group recreated');
    this.#owned('extend', answer);
  }
}

/**
 * A script run by its SHA1 (EVALSHA), so that an ack sends its arguments, not the script's few
 * hundred bytes of text. Its text goes only when the server answers NOSCRIPT (a new server, a
 * restart, a failover, a SCRIPT FLUSH): EVAL, which runs it and caches it for the next EVALSHA.
 * A NOSCRIPT runs nothing, so the EVAL is not a second run. (sluice/redis's ScriptCall does the
 * same, and more, for its stores; an adapter does not import sluice/redis.)
 */
class StreamsScript {
  readonly #lua: string;
  readonly #sha: string;

  constructor(lua: string) {
    this.#lua = lua;
    this.#sha = createHash('sha1').update(lua).digest('hex');
  }

  async run(client: Redis, keys: number, ...args: (string | Buffer)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.#sha, keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return client.eval(this.#lua, keys, ...args);
    }
  }
}

/**
 * The owner check each script below starts with (KEYS[1] the stream; ARGV: group, consumer, id):
 * 0 for an entry no longer pending in the group, the owner's name for one pending with another
 * consumer (a consumer of '' takes any owner). XPENDING and the write in one script: no claim
 * can come between them.
 */
const OWNED = `local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #p == 0 then return 0 end
if ARGV[2] ~= '' and p[1][2] ~= ARGV[2] then return p[1][2] end
`;

/** XACK an entry still pending with this consumer (1). */
const ACK_SCRIPT = new StreamsScript(`${OWNED}return redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])`);

/** Set the idle time (ARGV[4], ms) of an entry still pending with this consumer (1): `XCLAIM ... JUSTID` counts no delivery. */
const IDLE_SCRIPT = new StreamsScript(`${OWNED}redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'IDLE', ARGV[4], 'JUSTID')
return 1`);

/**
 * Copy an entry still pending with this consumer to the dead stream (KEYS[2]) and ack it. One a
 * peer claimed (or claimed and acked, or the server lost) is not copied. Checked before the XADD,
 * not by XACK's count after it: a script is not rolled back, so an XADD refused (WRONGTYPE) after
 * the XACK would lose the entry.
 */
const DEAD_LETTER_SCRIPT = new StreamsScript(`${OWNED}redis.call('XADD', KEYS[2], '*', unpack(ARGV, 4))
return redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])`);

/** Fields one XADD from a script may take: Redis's Lua unpacks at most ~8,000 values into one call ("too many results to unpack"). */
const LUA_FIELDS_MAX = 7000;
