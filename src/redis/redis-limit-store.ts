/**
 * The Redis home of {@link SharedLimitStore}: what a process uses to lease small batches of
 * tokens and slots rather than ask for every request — the same interface the gateway's
 * workers use towards their primary, so `LeasedRateStore` and `SlotLease` (sluice/shared)
 * run on it unchanged.
 *
 * Tokens: a take is the rate script's 't' operation (min, then as many more as are there up
 * to max, atomically, on Redis time); a give-back its refund. Slots: one {@link LeaseClient}
 * per name, renewed every TTL / 3 while anything is held; `close()` gives everything back.
 *
 * Failure modes apply to takes: 'open' grants `max` without asking, 'local' takes from this
 * process's share of the policy in memory, 'closed' rejects (LeasedRateStore then refuses).
 * Slot calls reject while the store is away (SlotLease keeps what it holds and retries).
 *
 * Lease data lost in Redis (FLUSHALL, a failover to an empty replica): the first call of any
 * holder after it fences the limit for a TTL (lease-scripts.ts) — no new slot is granted
 * while the holders renew, each putting back the leases its work runs on — so in flight
 * across processes stays within the limit; `held` tells a holder which of its leases found
 * no room (SlotLease then stops admitting on them).
 */
import type { RatePolicy } from '../rate/policy.js';
import type { SharedLimitStore, SlotGrant, TokenGrant } from '../shared/limit-store.js';
import { Adopting, promiseOf } from './adopt.js';
import { optNumber } from '../core/options.js';
import { keyNamer, StateKeys } from './keys.js';
import { LeaseClient } from './lease-client.js';
import { LocalShare } from './local-share.js';
import { failureConfig, keyNamesOption, viewOptions } from './options.js';
import type { FailureConfig, LimitStoreOptions } from './options.js';
import type { BatchEntry } from './rate-batch.js';
import { replayTake } from './rate-replay.js';
import { SHARED_CONCURRENCY_DEFAULTS } from './shared-concurrency.js';
import { StoreWrongTypeError } from './store-errors.js';
import { linkOf } from './store-link.js';
import type { RedisStoreHandle, StoreLink } from './store-link.js';

export class RedisLimitStore implements SharedLimitStore {
  readonly base: string;
  readonly failure: FailureConfig;
  readonly #link: StoreLink;
  readonly #local: LocalShare;
  readonly #ttl: number;
  readonly #slots = new Map<string, LeaseClient>();
  /** The work each name's holder last said it runs: the renew timer keeps the leases it runs on. */
  readonly #inUse = new Map<string, number>();
  readonly #renew: NodeJS.Timeout;
  #closed = false;
  /** The last few thousand keys' Redis keys, per algorithm (keys.ts): built once per key, not per take. */
  readonly #keys: StateKeys;
  /** What a take that failed falls back to (one object per store, not closures per take). */
  readonly #outcome: TakeOutcome = { failed: (err, key, policy, min, max) => this.#failedTake(err, key, policy, min, max) };

  /** `store.limitStore(options)`: token keys and slot names under the store's `keyPrefix`. */
  constructor(store: RedisStoreHandle, options: LimitStoreOptions = {}) {
    const link = linkOf(store);
    viewOptions('limitStore', options);
    this.#link = link;
    this.base = link.config.keyPrefix;
    this.failure = failureConfig(options, link.config);
    this.#local = new LocalShare(this.failure.instances);
    this.#ttl = optNumber('leaseTtlMs', options.leaseTtlMs ?? SHARED_CONCURRENCY_DEFAULTS.leaseTtlMs, 30, 86_400_000);
    this.#keys = new StateKeys(this.base, 4096, keyNamer(keyNamesOption('keyNames', options.keyNames, link.config.keyNames)));
    this.#renew = setInterval(() => this.#renewAll(), this.#ttl / 3);
    this.#renew.unref();
  }

  takeTokens(key: string, policy: RatePolicy, min: number, max: number): Promise<TokenGrant> {
    const t = new Take(this.#outcome, this.#keys.of(key, policy.algorithm), policy, min, max, key);
    // The entry takes its promise's resolvers itself (adopt.ts): no executor closure, no async frame per take.
    const p = promiseOf(t);
    this.#link.rate.push(t);
    return p;
  }

  async returnTokens(key: string, policy: RatePolicy, n: number): Promise<void> {
    if (n <= 0) return;
    await new Promise<void>((resolve, reject) => {
      this.#link.rate.push({ key: this.#keys.of(key, policy.algorithm), op: 'r', policy, x: n, y: 0, answer: () => resolve(), fail: reject });
    });
  }

  async takeSlots(name: string, limit: number, want: number, inUse = 0): Promise<SlotGrant> {
    const c = this.#client(name, limit);
    this.#inUse.set(name, inUse);
    // Work running on no lease (admitted while Redis was away) is leased too, first — even while fenced.
    const ask = want + Math.max(0, inUse - c.held.length);
    const a = ask > 0 ? await c.acquire(ask, want, inUse) : await c.renew(0, inUse);
    // `held`: renewals (this call's or the renew timer's) drop the leases Redis reported lost.
    const fairShare = a.othersWanting > 0 ? Math.floor(limit / (a.othersWanting + 1)) : limit;
    // The others' leases are all counted as the wanting ones' (Redis does not say whose): an under-estimate.
    const othersShort = Math.max(0, a.othersWanting * fairShare - (a.used - c.held.length));
    return { granted: ask > 0 ? a.n : 0, fairShare, held: c.held.length, used: a.used, othersShort };
  }

  async returnSlots(name: string, n: number): Promise<void> {
    const c = this.#slots.get(name);
    if (c !== undefined && n > 0) await c.release(n, 0);
  }

  /** Give back every slot held, and those still owed (lease calls unanswered), and stop renewing. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#renew);
    await Promise.all([...this.#slots.values()].map(async (c) => c.releaseAll().catch(() => undefined)));
  }

  #client(name: string, limit: number): LeaseClient {
    let c = this.#slots.get(name);
    // A reload may change the limit: later calls carry the new one.
    if (c === undefined || c.limit !== limit) {
      // Its leases and their epoch carry over: a reload is no loss of lease data.
      this.#slots.set(name, (c = new LeaseClient(this.#link, this.base, this.#keys.name(name), limit, this.#ttl, c)));
    }
    return c;
  }

  /**
   * Renew what is held; a client holding nothing that still owes give-backs (refused or unanswered
   * while the store was away) calls too, its call sending them: a retired lease makes no next call,
   * and they stayed counted against every holder until the TTL.
   */
  #renewAll(): void {
    for (const [name, c] of this.#slots) if (c.owed > 0) c.renew(0, this.#inUse.get(name) ?? 0).catch(() => undefined);
  }

  /** A take the store did not answer: rethrown, or the failure mode's grant. */
  #failedTake(err: unknown, key: string, policy: RatePolicy, min: number, max: number): TokenGrant {
    if (err instanceof StoreWrongTypeError || this.failure.onStoreError === 'closed') throw err;
    if (this.failure.onStoreError === 'open') return { taken: max, retryAfterMs: 0, remaining: 0 };
    return this.#localTake(key, policy, min, max);
  }

  /** The local share's take: `min`, then what is there up to `max` (as LeaseLedger takes). */
  #localTake(key: string, policy: RatePolicy, min: number, max: number): TokenGrant {
    const store = this.#local.store;
    const p = this.#local.share(policy);
    const now = performance.now();
    const local = this.#local.keyOf(key);
    const first = store.consume(local, p, min, now, 0);
    if (!first.allowed) return { taken: 0, retryAfterMs: first.retryAfterMs, remaining: 0 };
    const extra = Math.min(max - min, Math.floor(store.available(local, p, now) + 1e-9));
    if (extra >= 1 && store.consume(local, p, extra, now, 0).allowed) return { taken: min + extra, retryAfterMs: 0, remaining: 0 };
    return { taken: min, retryAfterMs: 0, remaining: first.facts.remaining };
  }
}

interface TakeOutcome {
  failed(err: unknown, key: string, policy: RatePolicy, min: number, max: number): TokenGrant;
}

/** A take waiting in its batch: Redis's answer replayed into the grant, or the failure mode's. */
class Take extends Adopting<TokenGrant> implements BatchEntry {
  readonly op = 't';
  constructor(
    readonly outcome: TakeOutcome,
    readonly key: string,
    readonly policy: RatePolicy,
    /** min and max, as the script takes them. */
    readonly x: number,
    readonly y: number,
    readonly callerKey: string,
  ) {
    super();
  }

  answer(verdict: number, reply: Buffer, at: number, now: number): void {
    try {
      this.resolve(replayTake(this.policy, verdict, reply, at, now, this.x, this.y));
    } catch (err) {
      this.reject(err as Error);
    }
  }

  fail(err: unknown): void {
    try {
      this.resolve(this.outcome.failed(err, this.callerKey, this.policy, this.x, this.y));
    } catch (e) {
      this.reject(e as Error);
    }
  }
}
