/**
 * A {@link RateStore} whose buckets live in a {@link SharedLimitStore}: the process takes
 * tokens in small batches and admits from what it holds, synchronously; only a key whose
 * local tokens ran out waits for the store. Every token admitted was taken from the shared
 * bucket, so all processes together admit at most `rate × t + burst`; tokens a process
 * holds and does not spend within `holdMs` go back.
 *
 * A refusal from the store comes with the time at which `cost` tokens will be there; until
 * then the key is refused here without asking again, so a storm of refused requests costs
 * the store nothing (and is refused exactly as long as the shared bucket is empty).
 *
 * Waiting for tokens (`maxDelayMs` > 0) is not offered: a reservation would hold tokens
 * this process may never spend. Such a caller is refused with its Retry-After.
 *
 * Refill ahead (`refillAt`): when a spend leaves a key `refillAt` tokens or fewer, the next
 * batch (`batch + 1`, or fewer if fewer are there) is taken in the background, so a key spent
 * at a steady pace finds tokens when its callers come instead of each `batch + 1`-th waiting
 * a round trip. The cost is tokens held: up to `refillAt + batch + 1` per key, not `batch`.
 */
import { decision } from '../rate/algorithm.js';
import type { RateDecision } from '../rate/algorithm.js';
import { capacityOf, windowOf } from '../rate/policy.js';
import type { RatePolicy } from '../rate/policy.js';
import type { RateStore } from '../rate/store.js';
import type { SharedLimitStore, TokenGrant, TokenTable } from './limit-store.js';

export interface LeasedRateStoreOptions {
  /** Prepended to every key in the shared store: one limiter's keys apart from another's. */
  readonly prefix: string;
  /** Tokens held unspent longer than this go back, ms. */
  readonly holdMs: number;
  /** Most keys held locally; past it the least recently used go back. */
  readonly maxKeys: number;
  /**
   * Tokens asked for beyond the cost of the request that needs them, per policy: more
   * means fewer store calls and more tokens held out of the others' reach.
   */
  readonly batchOf: (policy: RatePolicy) => number;
  /** The store failed: told the error; the request is refused `unavailable` (store_unavailable, fail closed), Retry-After 1 s. */
  readonly onError?: (err: unknown) => void;
  /** The most keys the store may hold for this limiter (its key table, named by `prefix`). @default the store's own bound */
  readonly tableKeys?: number;
  /** Monotonic ms, for holding and local refusals (the store keeps its own time). @default performance.now */
  readonly now?: () => number;
  /**
   * Per policy: a spend that leaves this many tokens or fewer takes the next batch ahead, in
   * the background (see the module comment); below 0 never. @default none (no refill ahead)
   */
  readonly refillAt?: (policy: RatePolicy) => number;
}

interface Local {
  tokens: number;
  policy: RatePolicy;
  usedAt: number;
  /** Refused without asking the store until then (ms, the `now` clock). */
  emptyUntil: number;
  retryAt: number;
  remaining: number;
  /** A store call for this key in flight: later callers wait for it rather than asking again. */
  pending: Promise<unknown> | undefined;
  /** Units the callers waiting for `pending` need: the next call asks for them too. */
  waiting: number;
  /** The store's last refusal was for a full key table (keys_full), not a spent rate. */
  full: boolean;
}

const FAIL_RETRY_MS = 1000;

export class LeasedRateStore implements RateStore {
  readonly #store: SharedLimitStore;
  readonly #o: LeasedRateStoreOptions;
  readonly #keys = new Map<string, Local>();
  readonly #timer: NodeJS.Timeout;
  readonly #table: TokenTable | undefined;
  readonly #now: () => number;
  #closed = false;

  constructor(store: SharedLimitStore, options: LeasedRateStoreOptions) {
    this.#store = store;
    this.#o = options;
    this.#now = options.now ?? (() => performance.now());
    this.#table = options.tableKeys === undefined ? undefined : { name: options.prefix, maxKeys: options.tableKeys };
    this.#timer = setInterval(() => this.#sweep(this.#now()), Math.max(5, options.holdMs / 2));
    this.#timer.unref();
    // Before any take: the store keeps the table while any holder says it uses it.
    if (this.#table !== undefined) this.#store.useTable?.(this.#table, true).catch((err: unknown) => this.#o.onError?.(err));
  }

  get size(): number {
    return this.#keys.size;
  }

  /** Tokens held locally, all keys. */
  get held(): number {
    let n = 0;
    for (const l of this.#keys.values()) n += l.tokens;
    return n;
  }

  consume(key: string, policy: RatePolicy, cost: number, _now: number, _maxDelayMs: number): RateDecision | Promise<RateDecision> {
    const t = this.#now();
    let l = this.#keys.get(key);
    if (l === undefined || l.policy !== policy) {
      if (l !== undefined) this.#giveBack(key, l);
      l = { tokens: 0, policy, usedAt: t, emptyUntil: 0, retryAt: 0, remaining: capacityOf(policy), pending: undefined, waiting: 0, full: false };
      this.#keys.set(key, l);
      if (this.#keys.size > this.#o.maxKeys) this.#evict();
    } else {
      // Most recently used last: eviction takes the oldest first.
      this.#keys.delete(key);
      this.#keys.set(key, l);
    }
    l.usedAt = t;
    if (l.tokens >= cost) {
      const d = this.#spend(l, cost);
      if (l.pending === undefined && this.#o.refillAt !== undefined && l.tokens <= this.#o.refillAt(l.policy) && t >= l.emptyUntil) this.#refillAhead(key, l);
      return d;
    }
    if (t < l.emptyUntil) return this.#refused(l, l.emptyUntil - t);
    return this.#fetch(key, l, cost);
  }

  refund(key: string, _policy: RatePolicy, cost: number): void {
    const l = this.#keys.get(key);
    if (l !== undefined) l.tokens += cost;
  }

  delete(key: string): boolean {
    const l = this.#keys.get(key);
    if (l === undefined) return false;
    this.#giveBack(key, l);
    return this.#keys.delete(key);
  }

  clear(): void {
    for (const [k, l] of this.#keys) this.#giveBack(k, l);
    this.#keys.clear();
  }

  /** Give every held token back, stop the sweep, and tell the store this holder is done with its table. */
  close(): void {
    clearInterval(this.#timer);
    this.clear();
    // After the give-backs (one channel, in order): the last holder's word lets the store forget the table.
    if (this.#table !== undefined && !this.#closed) this.#store.useTable?.(this.#table, false).catch((err: unknown) => this.#o.onError?.(err));
    this.#closed = true;
  }

  #spend(l: Local, cost: number): RateDecision {
    l.tokens -= cost;
    const p = l.policy;
    return decision(p.name, capacityOf(p), l.remaining + l.tokens, windowOf(p), 0, true, 0, 0);
  }

  #refused(l: Local, retryAfterMs: number): RateDecision {
    const p = l.policy;
    // The key is spent (fewer units than a request's cost are left), so its bucket is full
    // again in about a window, not when the next unit comes (refusal pacing caps pauses at it).
    const d = decision(p.name, capacityOf(p), 0, windowOf(p), windowOf(p), false, 0, retryAfterMs);
    return l.full ? { ...d, full: true } : d;
  }

  /**
   * The store did not answer (a closed Redis store's outage, a primary that is gone): refused for
   * that — store_unavailable, a 503 — not as if the key had spent its rate (a 429).
   */
  #unavailable(l: Local): RateDecision {
    l.full = false;
    return { ...this.#refused(l, FAIL_RETRY_MS), unavailable: true };
  }

  async #fetch(key: string, l: Local, cost: number): Promise<RateDecision> {
    while (l.pending !== undefined) {
      l.waiting += cost;
      try {
        await l.pending;
      } catch {
        // The call it waited for failed: refused as that call's own caller is (store_unavailable,
        // told once, there), not rejected with the store's error — until session 18 every
        // caller but the first got the error itself, an exception out of admit().
        return this.#unavailable(l);
      } finally {
        l.waiting -= cost;
      }
      if (l.tokens >= cost) return this.#spend(l, cost);
      const t = this.#now();
      if (t < l.emptyUntil) return this.#refused(l, l.emptyUntil - t);
    }
    const need = cost - l.tokens;
    const p = l.policy;
    // Enough for the callers that queued behind the last call too: asking only for one
    // caller's cost admitted one request per round trip to the store, whatever the rate —
    // at 150/s over IPC on a busy host, two workers admitted 60-90/s while the bucket overflowed.
    const call = this.#store.takeTokens(this.#o.prefix + key, p, need, need + l.waiting + Math.max(0, this.#o.batchOf(p)), this.#table);
    l.pending = call;
    let g: TokenGrant;
    try {
      g = await call;
    } catch (err) {
      this.#o.onError?.(err);
      return this.#unavailable(l);
    } finally {
      l.pending = undefined;
    }
    l.remaining = g.remaining;
    l.full = g.full === true;
    if (g.taken === 0) {
      l.emptyUntil = this.#now() + g.retryAfterMs;
      return this.#refused(l, g.retryAfterMs);
    }
    l.tokens += g.taken;
    return this.#spend(l, cost);
  }

  /**
   * Take the next batch for `key` before its held tokens run out: no caller waits for it,
   * though one whose tokens run out meanwhile does (as for any call in flight). What it brings
   * to a key no longer held here (given back, evicted, closed meanwhile) goes back at once.
   */
  #refillAhead(key: string, l: Local): void {
    const p = l.policy;
    const call = this.#store.takeTokens(this.#o.prefix + key, p, 1, Math.max(0, this.#o.batchOf(p)) + 1, this.#table);
    l.pending = call;
    call.then(
      (g) => {
        l.pending = undefined;
        l.remaining = g.remaining;
        l.full = g.full === true;
        if (g.taken === 0) {
          // Spent in the shared bucket: once the tokens held here are gone, refused locally until then.
          l.emptyUntil = this.#now() + g.retryAfterMs;
          return;
        }
        l.tokens += g.taken;
        if (this.#closed || this.#keys.get(key) !== l) this.#giveBack(key, l);
      },
      (err: unknown) => {
        l.pending = undefined;
        this.#o.onError?.(err);
      },
    );
  }

  #giveBack(key: string, l: Local): void {
    const n = Math.floor(l.tokens);
    if (n < 1) return;
    l.tokens -= n;
    this.#store.returnTokens(this.#o.prefix + key, l.policy, n, this.#table).catch((err: unknown) => this.#o.onError?.(err));
  }

  #sweep(t: number): void {
    for (const [k, l] of this.#keys) {
      if (t - l.usedAt < this.#o.holdMs) continue;
      this.#giveBack(k, l);
      if (l.pending === undefined && t >= l.emptyUntil) this.#keys.delete(k);
    }
  }

  #evict(): void {
    for (const [k, l] of this.#keys) {
      if (this.#keys.size <= this.#o.maxKeys) return;
      if (l.pending !== undefined) continue;
      this.#giveBack(k, l);
      this.#keys.delete(k);
    }
  }
}
