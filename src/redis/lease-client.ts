/**
 * One process's leases of one shared concurrency limit: the ids it holds in Redis, and the
 * three calls of the lease script (acquire, renew, release), each under the store's guard.
 * Lease ids are `<holder>#<n>`, the holder unique per process and limit.
 *
 * Every call carries the epoch of the lease data this process's leases are in (lease-scripts.ts):
 * an answer of another epoch means Redis lost them (FLUSHALL, a failover to an empty replica,
 * an eviction). An acquire that learns so renews at once, so its leases are counted again (or
 * reported lost) before its answer is used; meanwhile Redis grants nobody new leases (the fence).
 *
 * An acquire or release whose answer never came (a timeout: a slow Redis may still run it; the
 * store away) leaves ids in Redis that nobody here holds or renews: they are given back with the
 * next call, not left to expire after a TTL (a limit short of those slots meanwhile).
 */
import { hostname } from 'node:os';
import type { Clock, TimerHandle } from '../core/clock.js';
import { hashTag } from './keys.js';
import { LEASE_COMMAND } from './lease-scripts.js';
import { replyNumber } from './redis-rate-store.js';
import type { StoreLink } from './store-link.js';

export interface LeaseAnswer {
  /** Leases granted, renewed or released by the call. */
  readonly n: number;
  /** Other processes that want slots now (their callers wait). */
  readonly othersWanting: number;
  /** Leases held by everyone after the call. */
  readonly used: number;
  /** Ids that expired before their renewal and found no room: no longer held. */
  readonly lost: readonly string[];
  /** Redis lost lease data within the last TTL (a fence): only leases for work already running are granted. */
  readonly fenced: boolean;
}

export class LeaseClient {
  readonly holder: string;
  readonly limit: number;
  readonly ttlMs: number;
  readonly #link: StoreLink;
  readonly #keys: [string, string, string];
  /** Ids held, oldest first. */
  readonly held: string[] = [];
  #seq = 0;
  /** The epoch of the lease data `held` is in ('' before the first answer). */
  #epoch = '';
  /**
   * Ids of acquires and releases whose answer never came (a timeout, a lost connection, the
   * store away): Redis may hold them all the same, for nobody here. Given back at the next call,
   * kept until a give-back of them is answered — not forgotten a TTL after sending: a slow Redis
   * may run an acquire long after, its lease living a TTL from then. Bounded: only calls sent
   * (the breaker refuses the rest) and slots held add to it, and each answered call empties it.
   */
  #doubtful: (readonly string[])[] = [];
  /** Whether the last call made was sent to Redis (set synchronously by #call). */
  #sent = false;
  /** The client that replaced this one (a reload): a call still in flight here files what it learns there. */
  #successor: LeaseClient | undefined;
  /** returnAll: its give-back is out / waits to be tried again / gives up at (clock ms). */
  #returning = false;
  #retry: TimerHandle | undefined;
  #giveUpAt: number | undefined;

  /** `previous`: the client this one replaces (a reload changed the limit): its leases, its epoch and the give-backs it owes carry over. */
  constructor(link: StoreLink, base: string, name: string, limit: number, ttlMs: number, previous?: LeaseClient) {
    this.#link = link;
    this.limit = limit;
    this.ttlMs = ttlMs;
    const tag = hashTag(name);
    this.#keys = [`${base}${tag}:leases`, `${base}${tag}:want`, `${base}${tag}:epoch`];
    this.holder = previous?.holder ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 10)}`;
    if (previous !== undefined) {
      this.held.push(...previous.held);
      this.#seq = previous.#seq;
      this.#epoch = previous.#epoch;
      // Ids of its calls unanswered: nobody else would give them back before their TTL.
      this.#doubtful = previous.#doubtful;
      previous.#doubtful = [];
      previous.#successor = this;
    }
  }

  /** The sorted set of leases (for tests and operators: ZCARD is the slots in use). */
  get key(): string {
    return this.#keys[0];
  }

  /** The client in use: this one, or the last that replaced it (calls in flight at a reload answer there). */
  #current(): LeaseClient {
    return this.#successor === undefined ? this : this.#successor.#current();
  }

  /** The epoch this process's leases are in ('' before its first answer). */
  get epoch(): string {
    return this.#epoch;
  }

  /**
   * Ask for `n` more slots, saying this process wants `want`; `inFlight`: the work it runs now.
   * The granted ids join `held`. While Redis is fenced only work running on no lease is leased
   * (`inFlight` beyond what is held). An answer of another epoch: the held leases are renewed
   * at once (those with work on them kept, see renew); if that renewal fails, the call rejects
   * and what it granted is owed (given back with the next call), not held.
   */
  async acquire(n: number, want: number, inFlight = 0): Promise<LeaseAnswer> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push(`${this.holder}#${++this.#seq}`);
    const had = this.held.length;
    let answered: { answer: LeaseAnswer; changed: boolean };
    const call = this.#call('a', want, Math.max(0, inFlight - had), ids);
    const reached = this.#sent;
    try {
      answered = await call;
    } catch (err) {
      // A slow Redis runs a call after the guard gave up on it: its leases would count against
      // every process, renewed by none, until they expire (a TTL of lost slots). One the guard
      // did not send (its breaker open) took nothing.
      if (reached) this.#current().#doubtful.push(ids);
      throw err;
    }
    const { answer: a, changed } = answered;
    const current = this.#current();
    for (let i = 0; i < a.n; i++) current.held.push(ids[i]!);
    if (!changed || had === 0) return a;
    let r: LeaseAnswer;
    try {
      r = await current.renew(want, inFlight);
    } catch (err) {
      // Its caller hears of no grant: the granted ids are owed, not held (renewed for good, used by nobody).
      const granted = new Set(ids.slice(0, a.n));
      const now = this.#current(); // a reload meanwhile carried them over
      for (let i = now.held.length - 1; i >= 0; i--) if (granted.has(now.held[i]!)) now.held.splice(i, 1);
      if (granted.size > 0) now.#doubtful.push([...granted]);
      throw err;
    }
    return { ...a, used: r.used, lost: r.lost, fenced: r.fenced };
  }

  /**
   * Renew every held lease; lost ones leave `held`. `inUse`: how many of them have work running
   * on them — those come back in Redis even if the limit is full there (their leases vanished:
   * a FLUSHALL, an eviction, a failover), since that work runs whether Redis counts it or not.
   */
  async renew(want: number, inUse = 0): Promise<LeaseAnswer> {
    const { answer: a } = await this.#call('n', want, Math.min(inUse, this.held.length), this.held);
    if (a.lost.length > 0) {
      const lost = new Set(a.lost);
      const held = this.#current().held;
      for (let i = held.length - 1; i >= 0; i--) if (lost.has(held[i]!)) held.splice(i, 1);
    }
    return a;
  }

  /** Give back `n` held slots (newest first); they leave `held` at once, whether or not Redis hears of it. */
  async release(n: number, want: number): Promise<LeaseAnswer> {
    const ids = this.held.splice(Math.max(0, this.held.length - n), n);
    try {
      return (await this.#call('r', want, 0, ids)).answer;
    } catch (err) {
      // Not given back, maybe (the store away, or slow): given back at the next call, not left to the TTL.
      this.#current().#doubtful.push(ids);
      throw err;
    }
  }

  /**
   * Give back every held lease and every id still owed (closing), in one call, awaited: the
   * owed ones would otherwise wait for a next call that never comes, counted until their TTL.
   */
  async releaseAll(): Promise<void> {
    const ids = [...this.held.splice(0), ...this.#doubtful.flat()];
    this.#doubtful = [];
    if (ids.length === 0) return;
    try {
      await this.#link.script(LEASE_COMMAND, this.#keys, ['r', this.limit, this.ttlMs, this.holder, 0, this.#epoch, 0, ...ids]);
    } catch (err) {
      // Still owed (the store away, or slow): a later releaseAll or call gives them back.
      this.#current().#doubtful.push(ids);
      throw err;
    }
  }

  /**
   * Closing, in any mode: {@link releaseAll} — while it fails, again every `retryMs` (the
   * store's breaker lets one call through per probeMs) until the store answers, is closed, or a
   * TTL has passed since the first try (the held leases have expired by then). What a call
   * answered meanwhile adds goes back in turn. Never rejects.
   */
  returnAll(clock: Clock, retryMs: number): void {
    if (this.#returning || this.#retry !== undefined || this.owed === 0) return;
    this.#giveUpAt ??= clock.now() + this.ttlMs;
    this.#returning = true;
    this.releaseAll().then(
      () => {
        this.#returning = false;
        this.returnAll(clock, retryMs);
      },
      () => {
        this.#returning = false;
        if (this.#link.closed() || clock.now() >= this.#giveUpAt!) return;
        this.#retry = clock.setTimer(() => {
          this.#retry = undefined;
          this.returnAll(clock, retryMs);
        }, retryMs);
        (this.#retry as { unref?: () => void }).unref?.();
      },
    );
  }

  /** Ids Redis may count for this process: those held, and those of calls unanswered. */
  get owed(): number {
    let n = this.held.length;
    for (const ids of this.#doubtful) n += ids.length;
    return n;
  }

  /** Give back the ids of unanswered acquires (sent before the call that follows on the connection). */
  #releaseDoubtful(want: number): void {
    const batches = this.#doubtful;
    this.#doubtful = [];
    const ids = batches.flat();
    this.#link.script(LEASE_COMMAND, this.#keys, ['r', this.limit, this.ttlMs, this.holder, want, this.#epoch, 0, ...ids]).catch(() => this.#current().#doubtful.push(...batches));
  }

  /**
   * One script call; `changed`: its epoch is not the one the held leases were in. Sets `#sent`
   * before its first await: whether the guard sent it to Redis (not refused by its breaker).
   */
  async #call(op: 'a' | 'n' | 'r', want: number, count: number, ids: readonly string[]): Promise<{ answer: LeaseAnswer; changed: boolean }> {
    if (this.#doubtful.length > 0) this.#releaseDoubtful(want);
    const sentIn = this.#epoch;
    const guard = this.#link.guard;
    const before = guard.stats().sent;
    const reply = this.#link.script(LEASE_COMMAND, this.#keys, [op, this.limit, this.ttlMs, this.holder, want, sentIn, count, ...ids]);
    this.#sent = guard.stats().sent > before;
    const r = (await reply) as unknown[];
    const epoch = String(r[3]);
    const changed = sentIn !== '' && epoch !== sentIn;
    // Calls may overlap (a renewal beside an acquire): the epoch learnt last wins, and each is one Redis has answered.
    this.#epoch = epoch;
    this.#current().#epoch = epoch;
    return { answer: { n: replyNumber(r[0]), othersWanting: replyNumber(r[1]), used: replyNumber(r[2]), fenced: replyNumber(r[4]) === 1, lost: r.slice(5).map(String) }, changed };
  }
}
