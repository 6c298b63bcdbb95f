/**
 * A Redis Streams consumer group as a BrokerSource. Each pull asks for exactly the
 * outstanding demand: first `XAUTOCLAIM` of entries idle longer than `claimIdleMs` (a dead
 * consumer's pending entries, and retries whose delay has passed), then `XREADGROUP COUNT`
 * for the rest, blocking up to `blockMs` only when nothing was claimed. Ack is `XACK` after
 * processing. A retry leaves the entry pending and sets its idle time so that it becomes
 * claimable after the delay (`XCLAIM ... IDLE ... JUSTID`); the next claim counts the attempt.
 * A dead letter is `XADD` to `<stream>:dead` with the reason and `XACK`, in one script, only for
 * an entry still pending in the group (one a peer claimed and acked is not copied); one the server
 * refused `deadLetterTries` times is parked: left pending, claimed but never handed out again here.
 * `extend` resets the idle time of an entry this consumer still owns (`XCLAIM ... JUSTID`, which
 * counts no attempt), so a handler longer than `claimIdleMs` keeps its entry; an entry this
 * source handed out and is still unsettled is never handed out again by its own claim.
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { InvalidArgumentError, optInt, optionKeys, optKnownKeys, optNumber } from '../core/index.js';
import { connectRedis } from './connect-redis.js';
import { BrokerUnavailableError, redactUrl } from '../brokers/broker-error.js';
import { ConnectionTracker } from '../brokers/connection-state.js';
import type { ConnectionStats } from '../brokers/connection-state.js';
import type { BrokerSource } from '../brokers/source.js';
import { pause, pullMax } from '../brokers/source.js';
import type { Delivery } from '../brokers/delivery.js';
import { nonEmpty } from '../brokers/options.js';
import { RedisStreamsDelivery } from './redis-streams-delivery.js';
import type { RedisStreamsOwner } from './redis-streams-delivery.js';
import { argOptions } from '../core/option-keys.js';
import { closeWithin } from '../brokers/bounded-close.js';

export interface RedisStreamsSourceOptions {
  /** Redis URL. @default 'redis://127.0.0.1:6379' */
  readonly url?: string;
  /** The stream key. Non-empty. */
  readonly stream: string;
  /** The consumer group (created at the stream's start, with the stream, when missing). Non-empty. */
  readonly group: string;
  /** This consumer's name in the group. @default `${hostname}-${pid}` */
  readonly consumer?: string;
  /** Entries pending this long (ms) with any consumer are claimed: a dead consumer's, or retries due. In [1, 9007199254740991]. @default 30000 */
  readonly claimIdleMs?: number;
  /** How long one XREADGROUP blocks when nothing is there, ms. Integer in [1, 60000]. @default 1000 */
  /**
   * Largest single read (the COUNT of XAUTOCLAIM and XREADGROUP) however large the demand: an
   * unbounded demand (`request(Infinity)`) as a COUNT makes Redis refuse the XAUTOCLAIM ("COUNT
   * too high") and would read a whole stream in one reply. Integer in [1, 100000]. @default 1000
   */
  readonly maxBatch?: number;
  readonly blockMs?: number;
  /** The entry field that holds the body; the other fields become headers. @default 'body' */
  readonly bodyField?: string;
  /** Stream of dead letters. @default `${stream}:dead` */
  readonly deadLetterStream?: string;
  /**
   * Dead letters of one entry the server may refuse (WRONGTYPE, OOM, a script refused...) before
   * this source stops claiming the entry: it is parked — left pending in the group, listed in
   * `source.parked` / `parkedEntries()`, never handed out again by this source until the operator
   * calls `deadLetterParked(id)` (the same dead letter, now) or `dropParked(id)`. Without a bound, an entry whose dead
   * letter keeps failing is claimed and refused again every claimIdleMs, for ever. Integer >= 1.
   * @default 3
   */
  readonly deadLetterTries?: number;
}

type Entry = [id: Buffer, fields: Buffer[] | null];

const REDIS_STREAMS_SOURCE_KEYS = optionKeys<RedisStreamsSourceOptions>({ url: true, stream: true, group: true, consumer: true, claimIdleMs: true, blockMs: true, maxBatch: true, bodyField: true, deadLetterStream: true, deadLetterTries: true });

export class RedisStreamsSource implements BrokerSource, RedisStreamsOwner {
  readonly name: string;
  readonly stream: string;
  readonly group: string;
  readonly consumer: string;
  readonly claimIdleMs: number;
  readonly bodyField: string;
  readonly deadLetterStream: string;
  /** Commands (acks, claims, info); the blocking read has its own connection. */
  readonly client: Redis;
  readonly #reader: Redis;
  readonly #blockMs: number;
  readonly #maxBatch: number;
  #cursor = '0-0';
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Entries handed out and not yet settled (their handlers run): a claim of one is not handed out again. */
  readonly #holding = new Set<string>();
  readonly #deadLetterTries: number;
  /** Dead letters the server refused, by entry, until one goes through or the entry is parked. */
  readonly #refused = new Map<string, number>();
  /** Entries whose dead letter was refused deadLetterTries times: claimed, never handed out again (until the operator's word). */
  readonly #parked = new Map<string, { readonly delivery: RedisStreamsDelivery; readonly reason: string; error: string }>();
  readonly #connection = new ConnectionTracker();

  private constructor(name: string, o: Required<RedisStreamsSourceOptions>, client: Redis, reader: Redis) {
    this.name = name;
    this.stream = o.stream;
    this.group = o.group;
    this.consumer = o.consumer;
    this.claimIdleMs = o.claimIdleMs;
    this.bodyField = o.bodyField;
    this.deadLetterStream = o.deadLetterStream;
    this.#blockMs = o.blockMs;
    this.#maxBatch = o.maxBatch;
    this.client = client;
    this.#reader = reader;
    this.#deadLetterTries = o.deadLetterTries;
    // Both connections up is up; either one given up on (ioredis: 'end') is down; else reconnecting.
    const follow = (): void => {
      if (this.#closed || client.status === 'end' || reader.status === 'end') this.#connection.down();
      else if (client.status === 'ready' && reader.status === 'ready') this.#connection.up();
      else this.#connection.lost();
    };
    for (const c of [client, reader]) for (const ev of ['ready', 'close', 'reconnecting', 'end']) c.on(ev, follow);
  }

  /** `up` while both connections (commands, the blocking read) are; `reconnecting` while ioredis re-establishes one (about 15 s); `down` once it gave up or the source closed. */
  get connection(): ConnectionStats {
    return this.#connection.snapshot();
  }

  /** Entries parked: their dead letter was refused `deadLetterTries` times; left pending in the group, no longer handed out by this source. */
  get parked(): readonly string[] {
    return [...this.#parked.keys()];
  }

  /** The parked entries with what was to be done and why it failed: the dead letter's reason, its attempt, the server's last refusal. */
  parkedEntries(): readonly ParkedEntry[] {
    return [...this.#parked].map(([id, p]) => ({ id, reason: p.reason, attempt: p.delivery.attempt, error: p.error }));
  }

  /**
   * Dead-letter a parked entry now (the refusal fixed: the dead stream's key, memory): the same
   * copy (body, fields, reason, attempts) and ack, in one script. Resolves true once done (no
   * longer parked), false for an id not parked here or no longer pending (a peer acked it: no
   * longer parked either); a refusal again rejects with the server's error, the entry still parked.
   */
  async deadLetterParked(id: string): Promise<boolean> {
    const p = this.#parked.get(parkedId(id));
    if (p === undefined) return false;
    try {
      await p.delivery.deadLetterAgain(p.reason);
    } catch (err) {
      // No longer pending (a peer claimed and acked it, a server lost it): nothing left to park.
      const pending = await this.client.xpending(this.stream, this.group, id, id, 1).catch(() => undefined);
      if (Array.isArray(pending) && pending.length === 0) {
        this.#parked.delete(id);
        return false;
      }
      p.error = (err as Error).message;
      throw err;
    }
    this.#parked.delete(id);
    return true;
  }

  /**
   * Give a parked entry up: `XACK` without a copy (the entry stays in the stream, no longer
   * pending in the group; its reason goes nowhere). Resolves true once acked, false for an id not
   * parked here (or no longer pending: a peer acked it).
   */
  async dropParked(id: string): Promise<boolean> {
    if (!this.#parked.has(parkedId(id))) return false;
    const acked = await this.client.xack(this.stream, this.group, id);
    this.#parked.delete(id);
    return acked === 1;
  }

  static async open(options: RedisStreamsSourceOptions): Promise<RedisStreamsSource> {
    argOptions('RedisStreamsSource', options, false);
    optKnownKeys('RedisStreamsSource', options, REDIS_STREAMS_SOURCE_KEYS);
    const stream = nonEmpty('stream', options.stream);
    const o: Required<RedisStreamsSourceOptions> = {
      url: nonEmpty('url', options.url ?? 'redis://127.0.0.1:6379'),
      stream,
      group: nonEmpty('group', options.group),
      consumer: nonEmpty('consumer', options.consumer ?? `${hostname()}-${process.pid}`),
      // XAUTOCLAIM takes a whole number of ms: Infinity or 1e300 would fail every pull.
      claimIdleMs: optNumber('claimIdleMs', options.claimIdleMs ?? 30_000, 1, Number.MAX_SAFE_INTEGER),
      blockMs: optInt('blockMs', options.blockMs ?? 1000, 1, 60_000),
      maxBatch: optInt('maxBatch', options.maxBatch ?? 1000, 1, 100_000),
      bodyField: nonEmpty('bodyField', options.bodyField ?? 'body'),
      deadLetterStream: nonEmpty('deadLetterStream', options.deadLetterStream ?? `${stream}:dead`),
      deadLetterTries: optInt('deadLetterTries', options.deadLetterTries ?? 3, 1),
    };
    const where = `redis-streams at ${redactUrl(o.url)}`;
    const client = await connectRedis(o.url, where);
    let reader: Redis;
    try {
      reader = await connectRedis(o.url, where);
    } catch (err) {
      client.disconnect();
      throw err;
    }
    try {
      await createGroup(client, stream, o.group);
    } catch (err) {
      client.disconnect();
      reader.disconnect();
      throw err;
    }
    return new RedisStreamsSource(`${where} stream ${JSON.stringify(stream)} group ${JSON.stringify(o.group)}`, o, client, reader);
  }

  async pull(demand: number, emit: (delivery: Delivery) => void, signal: AbortSignal): Promise<void> {
    const max = Math.min(pullMax(demand), this.#maxBatch);
    try {
      await this.#pull(max, emit, signal);
    } catch (err) {
      // Redis answered (NOGROUP, WRONGTYPE...): its own error. Anything else is the connection
      // given up on (ioredis: MaxRetriesPerRequestError, "Connection is closed."): the broker is gone.
      throw err instanceof Error && err.name === 'ReplyError' ? err : new BrokerUnavailableError(this.name, err);
    }
  }

  async #pull(max: number, emit: (delivery: Delivery) => void, signal: AbortSignal): Promise<void> {
    let emitted = 0;
    const counted = (d: Delivery): void => {
      emitted++;
      emit(d);
    };
    let recreated = false;
    let failures = 0;
    while (emitted === 0 && !signal.aborted && !this.#closed) {
      try {
        await this.#read(max, counted, signal);
        recreated = false;
        failures = 0;
      } catch (err) {
        if (emitted > 0 || signal.aborted || this.#closed) return;
        if (!(err instanceof Error && err.name === 'ReplyError')) {
          // A command out of ioredis's retries (3, under a second) while the connection still
          // reconnects (about 15 s, connect-redis.ts): read again, until the client gives up.
          if (this.client.status === 'end' || this.#reader.status === 'end') throw err;
          await pause(Math.min(1000, 100 * 2 ** failures++), signal);
          continue;
        }
        // The group is gone (a server restarted without persistence, a failover to a replica
        // without it, the key deleted): created again as open() does. Gone again at once: thrown.
        if (recreated || !err.message.startsWith('NOGROUP ')) throw err;
        recreated = true;
        await createGroup(this.client, this.stream, this.group);
        this.#cursor = '0-0';
      }
    }
  }

  /** One XAUTOCLAIM, then one XREADGROUP for the rest (blocking when nothing was claimed). */
  async #read(max: number, emit: (delivery: Delivery) => void, signal: AbortSignal): Promise<void> {
    const claimed = await this.#claim(max, emit);
    if (claimed >= max || signal.aborted || this.#closed) return;
    const res = (await this.#reader.callBuffer('XREADGROUP', 'GROUP', this.group, this.consumer, 'COUNT', String(max - claimed), ...(claimed === 0 ? ['BLOCK', String(this.#blockMs)] : []), 'STREAMS', this.stream, '>')) as unknown[] | null;
    for (const entries of streamEntries(res)) {
      for (const [id, fields] of entries) this.#emit(emit, id.toString(), fields ?? [], 1);
    }
  }

  /** XAUTOCLAIM up to `max` entries idle past claimIdleMs; their attempt is the group's delivery count. */
  async #claim(max: number, emit: (delivery: Delivery) => void): Promise<number> {
    const res = (await this.client.callBuffer('XAUTOCLAIM', this.stream, this.group, this.consumer, String(Math.floor(this.claimIdleMs)), this.#cursor, 'COUNT', String(max))) as [Buffer, Entry[], Buffer[]?];
    this.#cursor = res[0].toString();
    const entries = res[1].filter((e) => e[1] !== null);
    // Entries trimmed from the stream while pending (Redis 7 reports them): nothing to process.
    const gone = (res[2] ?? []).map((b) => b.toString());
    if (gone.length > 0) await this.client.xack(this.stream, this.group, ...gone);
    for (const id of gone) this.#parked.delete(id);
    if (entries.length === 0) return 0;
    // An entry whose handler here outlasted claimIdleMs came back to its own consumer: it is still
    // being handled. A parked one stays claimed here (so no peer loops on it either), unhandled.
    const fresh = entries.filter(([id]) => !this.#holding.has(id.toString()) && !this.#parked.has(id.toString()));
    if (fresh.length === 0) return 0;
    const pipe = this.client.pipeline();
    for (const [id] of fresh) pipe.xpending(this.stream, this.group, id, id, 1);
    const counts = (await pipe.exec()) ?? [];
    fresh.forEach(([id, fields], i) => {
      const row = (counts[i]?.[1] as [string, string, number, number][] | undefined)?.[0];
      this.#emit(emit, id.toString(), fields ?? [], row?.[3] ?? 2);
    });
    return fresh.length;
  }

  #emit(emit: (delivery: Delivery) => void, id: string, fields: Buffer[], attempt: number): void {
    this.#holding.add(id);
    emit(new RedisStreamsDelivery(this.stream, id, fields, attempt, this));
  }

  /** @internal A delivery was settled: a later claim of its entry is a new attempt. */
  released(id: string): void {
    this.#holding.delete(id);
  }

  /**
   * @internal A dead letter of `id` ended: done (`err` undefined), or failed. The server's refusals
   * (a ReplyError: WRONGTYPE, OOM...) are counted, and at deadLetterTries the entry is parked; an
   * outage or an entry no longer pending is not a refusal to count.
   */
  deadLetterEnded(delivery: RedisStreamsDelivery, reason: string, err?: unknown): unknown {
    const id = delivery.id;
    if (err === undefined) this.#refused.delete(id);
    if (!(err instanceof Error && err.name === 'ReplyError')) return err;
    const n = (this.#refused.get(id) ?? 0) + 1;
    if (n < this.#deadLetterTries) {
      this.#refused.set(id, n);
      return err;
    }
    this.#refused.delete(id);
    this.#parked.set(id, { delivery, reason, error: err.message });
    return new Error(`${this.name}: dead letter of entry ${id} refused ${n} times (deadLetterTries), the last: ${err.message}; parked: left pending in the group and no longer claimed by this consumer (source.parkedEntries(), deadLetterParked(id), dropParked(id))`, { cause: err });
  }

  /** The group's `lag` from XINFO GROUPS: entries not yet delivered to the group. */
  async lag(): Promise<number> {
    const groups = (await this.client.call('XINFO', 'GROUPS', this.stream)) as unknown[][];
    for (const g of groups) {
      const fields = new Map<string, unknown>();
      for (let i = 0; i + 1 < g.length; i += 2) fields.set(String(g[i]), g[i + 1]);
      if (fields.get('name') !== this.group) continue;
      const lag = fields.get('lag');
      if (typeof lag === 'number') return lag;
      // lag is nil when Redis cannot tell (entries deleted inside the range): count from the stream.
      const len = await this.client.xlen(this.stream);
      return Math.max(0, len - Number(fields.get('entries-read') ?? 0));
    }
    return 0;
  }

  /** Once however often it is called; a server that answers nothing is given CLOSE_GRACE_MS for its QUIT, then disconnected. */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    this.#connection.down();
    this.#reader.disconnect();
    return (this.#closing = closeWithin(
      () => this.client.quit(),
      () => this.client.disconnect(),
    ));
  }
}

/** A parked entry (RedisStreamsSource.parkedEntries). */
export interface ParkedEntry {
  readonly id: string;
  /** The dead letter's reason (the handler's error). */
  readonly reason: string;
  readonly attempt: number;
  /** The server's last refusal of its dead letter. */
  readonly error: string;
}

/** An entry id as the operator's tools take it: a string, else an InvalidArgumentError. */
function parkedId(id: unknown): string {
  if (typeof id !== 'string' || id === '') throw new InvalidArgumentError('id', 'a stream entry id (a string such as "1700000000000-0")', id);
  return id;
}

/** The group at the stream's start, with the stream, unless it exists. */
async function createGroup(client: Redis, stream: string, group: string): Promise<void> {
  try {
    await client.xgroup('CREATE', stream, group, '0', 'MKSTREAM');
  } catch (err) {
    if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
  }
}

/** XREADGROUP's reply: a list of [key, entries] pairs (RESP2), or a map flattened to [key, entries, ...] (RESP3). */
function streamEntries(res: unknown[] | null): Entry[][] {
  if (res === null || res.length === 0) return [];
  if (Array.isArray(res[0])) return (res as [Buffer, Entry[]][]).map((pair) => pair[1]);
  const out: Entry[][] = [];
  for (let i = 1; i < res.length; i += 2) out.push(res[i] as Entry[]);
  return out;
}
