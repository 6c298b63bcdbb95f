/**
 * What a limit's view of a {@link RedisStore} uses: the connection, its guard, its scripts
 * (internal), and the public handle the views are made from. A view's constructor takes the
 * store itself — `new RedisRateStore(store, name, options)` is `store.rateStore(name, options)`
 * — and finds the store's link here: the link never appears in a public signature, and the
 * views need not import RedisStore (which imports them).
 */
import type { Cluster, Redis } from 'ioredis';
import { InvalidArgumentError } from '../core/errors.js';
import type { RedisStoreConfig } from './options.js';
import type { RateBatcher } from './rate-batch.js';
import type { StoreGuard } from './store-guard.js';

export interface StoreLink {
  readonly config: RedisStoreConfig;
  readonly guard: StoreGuard;
  readonly client: Redis | Cluster;
  /** Run a defined script on `keys` under the guard (timeout, breaker). */
  script(name: string, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
  /** Rate operations: those issued in one tick share a script call. */
  readonly rate: RateBatcher;
  /** Whether the store was closed (its connection gone: a call now only fails). */
  readonly closed: () => boolean;
}

/** A {@link RedisStore} as its views' constructors take it (`RedisStore.connect`'s store). */
export interface RedisStoreHandle {
  readonly config: RedisStoreConfig;
  readonly guard: StoreGuard;
  readonly client: Redis | Cluster;
}

const links = new WeakMap<object, StoreLink>();

/** Make `handle` stand for `link` (the store's constructor; leasedRateStore's store under its name). */
export function linkHandle(handle: RedisStoreHandle, link: StoreLink): void {
  links.set(handle, link);
}

/** The link of `store`; an InvalidArgumentError naming `option` when it is no RedisStore. */
export function linkOf(store: RedisStoreHandle, option = 'store'): StoreLink {
  const l = typeof store === 'object' && store !== null ? links.get(store) : undefined;
  if (l === undefined) throw new InvalidArgumentError(option, 'a RedisStore (from RedisStore.connect)', store);
  return l;
}
