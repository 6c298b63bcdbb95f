/**
 * Limits shared across processes: the store interface the gateway's primary (for its
 * workers) and the Redis store (across hosts) implement. See limit-store.ts.
 */
export type { SharedLimitStore, SlotGrant, TokenGrant } from './limit-store.js';
