/**
 * Where a policy's rate limiters keep their buckets, and how a reload hands them on. A limiter
 * is known by its identity — its policy's name, its own name and its own settings — not by the
 * hash of the whole policy: a reload that changes the policy around it (a concurrency limit, a
 * breaker, another rate limit) gives the new limiter the old one's store, so a spent burst or
 * quota stays spent; every process computes the same identity, so the primary's ledger (and
 * Redis) keep the buckets too.
 * Until hostile-workers17, each such reload gave every tenant a fresh burst and a fresh quota.
 * A limiter whose settings changed starts afresh; the store it leaves is closed when its
 * policy retires (a leased store's sweep stops and its unspent tokens go back).
 */
import { MemoryStore } from '../rate/memory-store.js';
import type { RateStore } from '../rate/store.js';
import { LeasedRateStore } from '../shared/leased-rate-store.js';
import { canonicalHash } from './canonical.js';
import type { RateLimitConfig } from './config-types.js';

/**
 * The identity of limiter `limiter` (`<policy>-<name>`, the gate's name) with these settings
 * (its entry under `rateLimits`). A changed rate, burst or window is a new identity: a state
 * does not read under other settings (a GCRA state spent at 1/min would hold a tenant for a
 * minute at 1000/s).
 */
export function limiterIdentity(limiter: string, settings: RateLimitConfig): string {
  return canonicalHash({ limiter, settings });
}

/** Makes a shared store for a limiter (worker-share.ts); undefined: this process's memory. */
export type SharedStoreMaker = (identity: string, limiter: string, quota: boolean, maxKeys?: number) => RateStore | undefined;

/** One policy's rate stores, by limiter identity. */
export class RateStores {
  readonly #mine = new Map<string, RateStore>();
  readonly #reuse: (identity: string) => RateStore | undefined;
  readonly #make: SharedStoreMaker | undefined;

  /** `reuse`: the store the previous route table had for an identity. */
  constructor(make: SharedStoreMaker | undefined, reuse: (identity: string) => RateStore | undefined) {
    this.#make = make;
    this.#reuse = reuse;
  }

  /** The store of a limiter: the previous table's of the same identity, else a new one. */
  storeFor(identity: string, limiter: string, quota: boolean, maxKeys: number | undefined): RateStore | undefined {
    const s = this.#reuse(identity) ?? (this.#make === undefined ? new MemoryStore(maxKeys === undefined ? {} : { maxKeys }) : this.#make(identity, limiter, quota, maxKeys));
    if (s !== undefined) this.#mine.set(identity, s);
    return s;
  }

  entries(): IterableIterator<[string, RateStore]> {
    return this.#mine.entries();
  }

  /** Close each store no policy of `next` took over. */
  closeUnused(next: Iterable<RateStores>): void {
    const taken = new Set<RateStore>();
    for (const r of next) for (const [, s] of r.entries()) taken.add(s);
    for (const s of this.#mine.values()) if (!taken.has(s) && s instanceof LeasedRateStore) s.close();
  }
}
