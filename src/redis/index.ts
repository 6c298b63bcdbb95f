/** `sluice/redis`: limits shared across processes and hosts in Redis (ioredis, an optional peer). */
export { RedisStore } from './redis-store.js';
export { RedisLimitStore } from './redis-limit-store.js';
export { RedisRateStore } from './redis-rate-store.js';
export type { RedisRateStats } from './redis-rate-store.js';
export { REDIS_STORE_DEFAULTS, ON_STORE_ERROR, LEASED_RATE_DEFAULTS } from './options.js';
export type { FailureOptions, LeasedRateOptions, LimitStoreOptions, OnStoreError, RateStoreOptions, RedisStoreOptions } from './options.js';
export type { RedisStoreHandle } from './store-link.js';
export type { StoreHealth } from './store-guard.js';
export { StoreUnavailableError, StoreWrongTypeError } from './store-errors.js';
export { hashTag, MAX_STORE_KEY_LENGTH } from './keys.js';
export { SharedConcurrencyGate, SHARED_CONCURRENCY_DEFAULTS } from './shared-concurrency.js';
export type { SharedConcurrencyOptions, SharedConcurrencyStats } from './shared-concurrency.js';
export { SharedBreaker, SHARED_BREAKER_DEFAULTS } from './shared-breaker.js';
export type { SharedBreakerOptions } from './shared-breaker.js';
export type { StoreGuardStats } from './store-guard.js';
