/**
 * `store:` at run time: the gateway's limits in Redis, shared with every other gateway (and
 * worker) that names the same store. Loaded only when configured (sluice/redis needs ioredis,
 * an optional peer). Each rate limiter decides per request in Redis (RedisRateStore: exact,
 * with the store's failure mode); each fixed concurrency limit is leased from Redis by the
 * worker-share machinery (SlotLease over RedisLimitStore). Keys carry the policy's canonical
 * hash, so gateways with the same policy share its limits and a changed policy starts fresh.
 *
 * Unreachable at start is not fatal: the store starts in its failure mode, the log says so,
 * and /readyz reports it until Redis answers.
 */
import { createRequire } from 'node:module';
import { redactUrl } from '../brokers/broker-error.js';
import type { RedisStore } from '../redis/redis-store.js';
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

export interface StoreShare {
  readonly share: WorkerShare;
  status(): StoreStatus;
  close(): Promise<void>;
}

/** Slot lease time of the gateway's concurrency limits, ms: a dead gateway's slots come back within it. */
const LEASE_TTL_MS = 5000;

const requireHere = createRequire(import.meta.url);

/** A name safe before a hash tag: braces and percent signs encoded. */
function safe(name: string): string {
  return name.replace(/[{}%]/g, (c) => encodeURIComponent(c));
}

export async function openStoreShare(s: ResolvedStore, logger: Logger): Promise<StoreShare> {
  loadPeer('ioredis', "the gateway's store", 'npm install ioredis', requireHere);
  const { RedisStore: Store } = await import('../redis/redis-store.js');
  const redis: RedisStore = await Store.connect({ url: s.url, cluster: s.cluster, keyPrefix: s.keyPrefix, onStoreError: s.onStoreError, instances: s.instances, timeoutMs: s.timeoutMs });
  const url = redactUrl(s.url);
  if (redis.health === 'fallback') {
    logger.warn('store unreachable at start: limits decide by onStoreError until it answers', { store: url, onStoreError: s.onStoreError, error: redis.lastError });
  } else {
    logger.info('store connected: limits shared', { store: url });
  }
  redis.onHealth((health, cause) => {
    if (health === 'fallback') logger.warn('store unavailable: limits decide by onStoreError', { store: url, onStoreError: s.onStoreError, error: cause });
    else logger.info('store back: limits shared', { store: url });
  });
  const limits = redis.limitStore({ leaseTtlMs: LEASE_TTL_MS });
  const share: WorkerShare = {
    store: limits,
    workers: s.instances,
    onError: (what, err) => logger.debug('store call failed', { what, error: String(err) }),
    rateStoreFor: (policyKey, limiter) => redis.rateStore(`${policyKey}/${safe(limiter)}`),
  };
  return {
    share,
    status: () => ({ url, health: redis.health, onStoreError: s.onStoreError, lastError: redis.lastError }),
    close: async () => {
      await limits.close();
      await redis.close();
    },
  };
}
