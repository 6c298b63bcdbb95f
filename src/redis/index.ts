/** `sluice/redis`: limits shared across processes and hosts in Redis (ioredis, an optional peer). */
export { RedisStore } from './redis-store.js';
export { RedisRateStore } from './redis-rate-store.js';
export type { RedisRateStats } from './redis-rate-store.js';
export { REDIS_STORE_DEFAULTS, ON_STORE_ERROR } from './options.js';
export type { FailureOptions, OnStoreError, RedisStoreOptions } from './options.js';
export type { StoreHealth } from './store-guard.js';
export { StoreUnavailableError, StoreWrongTypeError } from './store-errors.js';
export { hashTag } from './keys.js';
