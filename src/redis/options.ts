/** Options of `sluice/redis`: one interface per object, defaults in one place, validated once. */
import type { Cluster, Redis } from 'ioredis';
import { InvalidOptionError } from '../core/errors.js';
import { optInt, optNumber, optOneOf } from '../core/options.js';
import { keyPart } from './keys.js';

/**
 * What a decision does when the store cannot answer (a timeout, a lost connection, the
 * guard's breaker open):
 * - 'open': admit (availability over the limit);
 * - 'closed': refuse, with the time until the store is probed again as Retry-After;
 * - 'local': decide in this process's memory on its share of the limit (rate and burst,
 *   or window limit, divided by `instances`; concurrency limit likewise) — the "insurance"
 *   limiter: the limit holds roughly while every instance is alive and in the same outage.
 */
export type OnStoreError = 'open' | 'closed' | 'local';

export const ON_STORE_ERROR: readonly OnStoreError[] = ['open', 'closed', 'local'];

/** Failure handling a store, a policy or a concurrency limit can set for itself. */
export interface FailureOptions {
  /** See {@link OnStoreError}. @default the connection's (itself @default 'local') */
  readonly onStoreError?: OnStoreError;
  /** Processes sharing the limit: the local fallback meters 1/instances of it. Integer >= 1. @default the connection's (itself @default 1) */
  readonly instances?: number;
}

export interface RedisStoreOptions extends FailureOptions {
  /**
   * Redis URL: `redis://[user:password@]host:port[/db]` or `rediss://` (TLS). Ignored with
   * `client`. @default 'redis://127.0.0.1:6379'
   */
  readonly url?: string;
  /** Treat `url` as a seed node of a Redis Cluster (ioredis `Cluster`). @default false */
  readonly cluster?: boolean;
  /**
   * A connected ioredis client (`Redis` or `Cluster`) to use instead of `url`; it stays
   * yours (not closed by `close()`). Give it `enableOfflineQueue: false` and
   * `autoResendUnfulfilledCommands: false` for fast failure, as the store's own client has.
   */
  readonly client?: Redis | Cluster;
  /** Prepended to every key. No braces (they would move the hash tag). @default 'sluice:' */
  readonly keyPrefix?: string;
  /**
   * Longest a store call may take before the decision falls back, ms. > 0. @default 250 —
   * above the slowest p99.9 of a decision bench:redis measured on a 2-core host at load 9–13
   * (5–34 ms closed loop at 16 and 256 callers, up to 188 ms in the open loop at half Redis's
   * ceiling; docs/redis.md): a busy host's slow answers are not taken for an outage. An
   * outage costs a call in flight at most this, once; a refused connection fails at once.
   */
  readonly timeoutMs?: number;
  /** Failed or timed-out calls in a row that open the guard's breaker. Integer >= 1. @default 3 */
  readonly failures?: number;
  /** While open, the store is probed this often, ms. > 0. @default 500 */
  readonly probeMs?: number;
  /** How long `connect` waits for the first connection before starting in the failure mode, ms. > 0. @default 2000 */
  readonly connectTimeoutMs?: number;
  /**
   * Rate operations per script call at most: decisions issued in one tick share one script
   * call (in a cluster, per hash slot), each with its own answer. 1 sends one script per
   * decision. Integer 1..1000. @default 64
   */
  readonly batch?: number;
  /**
   * How rate states are written: 'binary' (exact doubles, no number printed or parsed in
   * Redis) or 'text' (the `%.17g` text of versions before it, which they can read). Both are
   * always read. Run 'text' while a fleet still has processes of such a version, or of one
   * whose GCRA state was its TAT alone: they cannot read this version's binary state (text
   * writes GCRA's TAT alone, without the time that lets a later state follow Redis's clock set
   * back). @default 'binary'
   */
  readonly stateEncoding?: 'binary' | 'text';
}

export const REDIS_STORE_DEFAULTS = {
  url: 'redis://127.0.0.1:6379',
  keyPrefix: 'sluice:',
  timeoutMs: 250,
  failures: 3,
  probeMs: 500,
  connectTimeoutMs: 2000,
  batch: 64,
  stateEncoding: 'binary',
  onStoreError: 'local',
  instances: 1,
} as const;

export interface FailureConfig {
  readonly onStoreError: OnStoreError;
  readonly instances: number;
}

export interface RedisStoreConfig extends FailureConfig {
  readonly url: string;
  readonly cluster: boolean;
  readonly keyPrefix: string;
  readonly timeoutMs: number;
  readonly failures: number;
  readonly probeMs: number;
  readonly connectTimeoutMs: number;
  readonly batch: number;
  readonly stateEncoding: 'binary' | 'text';
}

/** Failure options over inherited ones; `prefix` names the option in errors. */
export function failureConfig(o: FailureOptions, base: FailureConfig, prefix = ''): FailureConfig {
  return {
    onStoreError: o.onStoreError === undefined ? base.onStoreError : optOneOf(`${prefix}onStoreError`, o.onStoreError, ON_STORE_ERROR),
    instances: o.instances === undefined ? base.instances : optInt(`${prefix}instances`, o.instances, 1),
  };
}

export function redisStoreConfig(o: RedisStoreOptions): RedisStoreConfig {
  const d = REDIS_STORE_DEFAULTS;
  const url = o.url ?? d.url;
  if (o.client === undefined) checkUrl('url', url);
  return {
    url,
    cluster: o.cluster ?? false,
    keyPrefix: keyPart('keyPrefix', o.keyPrefix ?? d.keyPrefix),
    timeoutMs: optNumber('timeoutMs', o.timeoutMs ?? d.timeoutMs, Number.MIN_VALUE, 60_000),
    failures: optInt('failures', o.failures ?? d.failures, 1),
    probeMs: optNumber('probeMs', o.probeMs ?? d.probeMs, 1, 60_000),
    connectTimeoutMs: optNumber('connectTimeoutMs', o.connectTimeoutMs ?? d.connectTimeoutMs, 1, 600_000),
    batch: optInt('batch', o.batch ?? d.batch, 1, 1000),
    stateEncoding: optOneOf('stateEncoding', o.stateEncoding ?? d.stateEncoding, ['binary', 'text'] as const),
    ...failureConfig(o, { onStoreError: d.onStoreError, instances: d.instances }),
  };
}

/** A Redis URL ioredis can use: `redis:` or `rediss:`, a host, a port in range, a numeric db. Throws naming `option`. */
export function checkUrl(option: string, url: unknown): string {
  const expected = 'a Redis URL redis://host:port[/db] or rediss://...';
  if (typeof url !== 'string') throw new InvalidOptionError(option, expected, url);
  // The message quotes the URL: never its password.
  const shown = url.replace(/\/\/([^@/:]*):[^@/]*@/, '//$1:***@');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new InvalidOptionError(option, expected, shown);
  }
  const port = u.port === '' ? 6379 : Number(u.port);
  const db = u.pathname.replace(/^\//, '');
  if ((u.protocol !== 'redis:' && u.protocol !== 'rediss:') || u.hostname === '' || !(port >= 1 && port <= 65535) || (db !== '' && !/^\d+$/.test(db))) {
    throw new InvalidOptionError(option, expected, shown);
  }
  return url;
}
