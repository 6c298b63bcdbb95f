/**
 * What a gateway worker shares with the others through its primary: the store (an
 * {@link IpcLimitStore}) and how many workers split each limit. Rate limiters get a
 * {@link LeasedRateStore} each (keys prefixed with the limiter's identity and name, the same
 * in every worker); fixed concurrency limits get a
 * {@link SlotLease} (in gateway.ts, once the gate exists).
 */
import { capacityOf } from '../rate/policy.js';
import type { RatePolicy } from '../rate/policy.js';
import type { RateStore } from '../rate/store.js';
import { LeasedRateStore } from '../shared/leased-rate-store.js';
import type { SharedLimitStore } from '../shared/limit-store.js';

export interface WorkerShare {
  readonly store: SharedLimitStore;
  /** Workers sharing each limit. */
  readonly workers: number;
  readonly onError: (what: string, err: unknown) => void;
  /**
   * A rate limiter's store when it decides per request in the shared home itself (Redis:
   * store-share.ts); without it each limiter leases tokens in batches from the primary —
   * quotas too (a quota kept per process was N quotas for N workers).
   */
  readonly rateStoreFor?: (identity: string, limiter: string) => RateStore;
}

/** Tokens held unspent this long go back to the primary, ms. */
const HOLD_MS = 20;
/** A batch is at most this long of the rate, ms: the accuracy a batch costs the others. */
const BATCH_SPAN_MS = 5;
const MAX_LOCAL_KEYS = 10_000;

/** Tokens asked for beyond a request's cost: ~5 ms of the rate, at most 1/4 of a worker's share of the burst. */
export function batchOf(policy: RatePolicy, workers: number): number {
  const perMs = policy.algorithm === 'sliding-window' ? policy.limit / policy.windowMs : policy.rate / policy.perMs;
  return Math.max(0, Math.min(Math.floor(perMs * BATCH_SPAN_MS), Math.floor(capacityOf(policy) / (4 * workers))));
}

/**
 * `identity`: the limiter's (rate-stores.ts), the same in every worker and across reloads that
 * leave it be. `maxKeys`: the limiter's own bound on tenants, kept by the primary's table for it
 * (every worker's tenants together).
 */
export function rateStoreFactory(share: WorkerShare): (identity: string, limiter: string, quota: boolean, maxKeys?: number) => RateStore | undefined {
  return (identity, limiter, _quota, maxKeys) => {
    if (share.rateStoreFor !== undefined) return share.rateStoreFor(identity, limiter);
    return new LeasedRateStore(share.store, {
      prefix: `${identity}/${limiter}:`,
      holdMs: HOLD_MS,
      maxKeys: MAX_LOCAL_KEYS,
      batchOf: (p) => batchOf(p, share.workers),
      onError: (err) => share.onError(`rate limiter ${limiter}`, err),
      ...(maxKeys === undefined ? {} : { tableKeys: maxKeys }),
    });
  };
}
