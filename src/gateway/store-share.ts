/**
 * `store:` at run time: the gateway's limits in Redis, shared with every other gateway (and
 * worker) that names the same store. Loaded only when configured (sluice/redis needs ioredis,
 * an optional peer). Each rate limiter decides per request in Redis (RedisRateStore: exact,
 * with the store's failure mode); each fixed concurrency limit is leased from Redis by the
 * worker-share machinery (SlotLease over RedisLimitStore). A rate limiter's keys carry its
 * identity (rate-stores.ts), so gateways with the same limiter share its buckets, and a reload
 * that leaves the limiter's shape be keeps them; a concurrency limit's name carries the policy's hash.
 *
 * Unreachable at start is not fatal: the store starts in its failure mode, the log says so,
 * and /readyz reports it until Redis answers.
 */
import { createRequire } from 'node:module';
import { redactUrl } from '../brokers/broker-error.js';
import type { RedisStore } from '../redis/redis-store.js';
import type { OnStoreError } from '../redis/options.js';
import type { StoreHealth } from '../redis/store-guard.js';
import type { Logger } from './logger.js';
import { loadPeer } from './peers.js';
import type { ResolvedStore } from './resolved-config.js';
import type { WorkerShare } from './worker-share.js';

/** The store as /status and /readyz show it. */
export interface StoreStatus {
  /** The URL, password hidden. */
  readonly url: string;
  readonly health: StoreHealth;
  readonly onStoreError: ResolvedStore['onStoreError'];
  /** Why it last failed, if it did. */
  readonly lastError: string | undefined;
}

/** A store that is away: its failure mode, and its probe period (a closed refusal's Retry-After), ms. */
export interface StoreAway {
  readonly onStoreError: OnStoreError;
  readonly probeMs: number;
}

export interface StoreShare {
  readonly share: WorkerShare;
  status(): StoreStatus;
  /**
   * `listener({ onStoreError, probeMs })` while the store is away (at once if it is now),
   * `listener(undefined)` when it is back: what the leased concurrency limits follow meanwhile
   * (slot-leases.ts), as the store's rate limits do.
   */
  onAway(listener: (away: StoreAway | undefined) => void): void;
  close(): Promise<void>;
}

/** Slot lease time of the gateway's concurrency limits, ms: a dead gateway's slots come back within it. */
const LEASE_TTL_MS = 5000;

const requireHere = createRequire(import.meta.url);

/** A name safe before a hash tag: braces and percent signs encoded. */
function safe(name: string): string {
  return name.replace(/[{}%]/g, (c) => encodeURIComponent(c));
}

/**
 * `processes`: this gateway's processes that open the store (`server.workers`; each worker
 * opens its own). The limits are shared by `instances` gateways of that many processes each,
 * so a process's share — what `local` meters while the store is away, and the slots a lease
 * asks for first — is 1 / (instances × processes): two workers metering limit / instances
 * each admitted twice the gateway's share.
 */
export async function openStoreShare(s: ResolvedStore, logger: Logger, processes = 1): Promise<StoreShare> {
  loadPeer('ioredis', "the gateway's store", 'npm install ioredis', requireHere);
  const { RedisStore: Store } = await import('../redis/redis-store.js');
  const sharers = s.instances * processes;
  const redis: RedisStore = await Store.connect({ url: s.url, cluster: s.cluster, keyPrefix: s.keyPrefix, onStoreError: s.onStoreError, instances: sharers, timeoutMs: s.timeoutMs, stateEncoding: s.stateEncoding });
  const url = redactUrl(s.url);
  if (redis.health === 'fallback') {
    logger.warn('store unreachable at start: limits decide by onStoreError until it answers', { store: url, onStoreError: s.onStoreError, error: redis.lastError });
  } else {
    logger.info('store connected: limits shared', { store: url });
  }
  const listeners: ((away: StoreAway | undefined) => void)[] = [];
  const away = (): StoreAway | undefined => (redis.health === 'fallback' ? { onStoreError: s.onStoreError, probeMs: redis.config.probeMs } : undefined);
  redis.onHealth((health, cause) => {
    if (health === 'fallback') logger.warn('store unavailable: limits decide by onStoreError', { store: url, onStoreError: s.onStoreError, error: cause });
    else logger.info('store back: limits shared', { store: url });
    for (const l of listeners) l(away());
  });
  const limits = redis.limitStore({ leaseTtlMs: LEASE_TTL_MS });
  const share: WorkerShare = {
    store: limits,
    workers: sharers,
    onError: (what, err) => logger.debug('store call failed', { what, error: String(err) }),
    rateStoreFor: (identity, limiter) => redis.rateStore(`${identity}/${safe(limiter)}`, { keyNames: s.tenantKeys }),
  };
  return {
    share,
    status: () => ({ url, health: redis.health, onStoreError: s.onStoreError, lastError: redis.lastError }),
    onAway: (listener) => {
      listeners.push(listener);
      const now = away();
      if (now !== undefined) listener(now);
    },
    close: async () => {
      await limits.close();
      await redis.close();
    },
  };
}
