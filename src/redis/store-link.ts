/** What a limit's view of a {@link RedisStore} uses: the connection, its guard, its scripts. Internal. */
import type { Cluster, Redis } from 'ioredis';
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
