/** Options of `sluice/redis`: one interface per object, defaults in one place, validated once. */
import type { Cluster, Redis } from 'ioredis';
import { InvalidOptionError } from '../core/errors.js';
import { redactUrl } from '../core/redact-url.js';
import { optionKeys, optKnownKeys } from '../core/option-keys.js';
import type { OptionKeyMap } from '../core/option-keys.js';
import { optInt, optNumber, optOneOf } from '../core/options.js';
import { optTenantKeys } from '../core/shown-key.js';
import type { TenantKeys } from '../core/shown-key.js';
import type { RatePolicy } from '../rate/policy.js';
import { keyPart } from './keys.js';
import { deepFreeze } from '../core/deep-freeze.js';

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

export const ON_STORE_ERROR: readonly OnStoreError[] = deepFreeze(['open', 'closed', 'local']);

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
   * How the names callers give are written in Redis keys — rate keys (exact and leased), the
   * limit store's token keys and slot names, concurrency and breaker names: 'raw', as they are
   * (the layout of every earlier version); 'hash', by their SHA-256 after their namespace
   * (`key:#<base64url>`; an address, `ip:…`, as it is), so whoever can list Redis's keys never
   * reads an API key. The default of every view; `rateStore`, `leasedRateStore` and
   * `limitStore` take their own. Processes sharing a limit must name keys alike. @default 'raw'
   */
  readonly keyNames?: TenantKeys;
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

export const REDIS_STORE_DEFAULTS = deepFreeze({
  url: 'redis://127.0.0.1:6379',
  keyPrefix: 'sluice:',
  keyNames: 'raw',
  timeoutMs: 250,
  failures: 3,
  probeMs: 500,
  connectTimeoutMs: 2000,
  batch: 64,
  stateEncoding: 'binary',
  onStoreError: 'local',
  instances: 1,
} as const);

export interface FailureConfig {
  readonly onStoreError: OnStoreError;
  readonly instances: number;
}

export interface RedisStoreConfig extends FailureConfig {
  readonly url: string;
  readonly cluster: boolean;
  readonly keyPrefix: string;
  readonly keyNames: TenantKeys;
  readonly timeoutMs: number;
  readonly failures: number;
  readonly probeMs: number;
  readonly connectTimeoutMs: number;
  readonly batch: number;
  readonly stateEncoding: 'binary' | 'text';
}

/** A `keyNames` option ('hash' or 'raw'), `inherited` when not given. */
export function keyNamesOption(option: string, value: TenantKeys | undefined, inherited: TenantKeys): TenantKeys {
  return value === undefined ? inherited : optTenantKeys(option, value);
}

/** Failure options over inherited ones; `prefix` names the option in errors. */
export function failureConfig(o: FailureOptions, base: FailureConfig, prefix = ''): FailureConfig {
  return {
    onStoreError: o.onStoreError === undefined ? base.onStoreError : optOneOf(`${prefix}onStoreError`, o.onStoreError, ON_STORE_ERROR),
    instances: o.instances === undefined ? base.instances : optInt(`${prefix}instances`, o.instances, 1),
  };
}

const FAILURE_KEY_MAP: OptionKeyMap<FailureOptions> = { onStoreError: true, instances: true };
const STORE_KEYS = optionKeys<RedisStoreOptions>({
  ...FAILURE_KEY_MAP,
  url: true,
  cluster: true,
  client: true,
  keyPrefix: true,
  keyNames: true,
  timeoutMs: true,
  failures: true,
  probeMs: true,
  connectTimeoutMs: true,
  batch: true,
  stateEncoding: true,
});

/** Options of {@link RedisStore.rateStore} (and `new RedisRateStore(store, name, options)`). */
export interface RateStoreOptions extends FailureOptions {
  /**
   * How callers' keys are named in Redis: 'raw', as they are (the layout of every earlier
   * version); 'hash', by their SHA-256 after their namespace (`key:#<base64url>`; an address,
   * `ip:…`, as it is), so whoever can list Redis's keys never reads an API key. Processes
   * sharing a limit must name keys alike (a tenant named both ways has two buckets).
   * @default the connection's (itself @default 'raw')
   */
  readonly keyNames?: TenantKeys;
}

/** Options of {@link RedisStore.limitStore} (and `new RedisLimitStore(store, options)`). */
export interface LimitStoreOptions extends FailureOptions {
  /** Slot lease time, ms (30..86,400,000): a dead holder's slots come back within it. @default 5000 */
  readonly leaseTtlMs?: number;
  /** How token keys and slot names are named in Redis. @default the connection's (itself @default 'raw') */
  readonly keyNames?: TenantKeys;
}

/** The option names of each view of a RedisStore, the views that take no gate options. */
const VIEW_KEYS = {
  rateStore: optionKeys<RateStoreOptions>({ ...FAILURE_KEY_MAP, keyNames: true }),
  leasedRateStore: optionKeys<LeasedRateOptions>({ ...FAILURE_KEY_MAP, batch: true, holdMs: true, maxKeys: true, refillAt: true, keyNames: true }),
  limitStore: optionKeys<LimitStoreOptions>({ ...FAILURE_KEY_MAP, leaseTtlMs: true, keyNames: true }),
} as const;

/**
 * The options object of a RedisStore view (`store.rateStore(name, options)`...): an object or
 * undefined, of known keys only — `RedisStore.rateStore` is named in the error of another one.
 */
export function viewOptions(view: keyof typeof VIEW_KEYS, options: unknown): void {
  optKnownKeys(`RedisStore.${view}`, options, VIEW_KEYS[view]);
}

export function redisStoreConfig(o: RedisStoreOptions): RedisStoreConfig {
  optKnownKeys('RedisStore', o, STORE_KEYS);
  const d = REDIS_STORE_DEFAULTS;
  const url = o.url ?? d.url;
  if (o.client === undefined) checkUrl('url', url, o.cluster === true);
  return {
    url,
    cluster: o.cluster ?? false,
    keyPrefix: keyPart('keyPrefix', o.keyPrefix ?? d.keyPrefix),
    keyNames: keyNamesOption('keyNames', o.keyNames, d.keyNames),
    timeoutMs: optNumber('timeoutMs', o.timeoutMs ?? d.timeoutMs, Number.MIN_VALUE, 60_000),
    failures: optInt('failures', o.failures ?? d.failures, 1),
    probeMs: optNumber('probeMs', o.probeMs ?? d.probeMs, 1, 60_000),
    connectTimeoutMs: optNumber('connectTimeoutMs', o.connectTimeoutMs ?? d.connectTimeoutMs, 1, 600_000),
    batch: optInt('batch', o.batch ?? d.batch, 1, 1000),
    stateEncoding: optOneOf('stateEncoding', o.stateEncoding ?? d.stateEncoding, ['binary', 'text'] as const),
    ...failureConfig(o, { onStoreError: d.onStoreError, instances: d.instances }),
  };
}

/** Where a store URL points: what the store's own client is given (never the URL itself, whose query ioredis would take as client options). */
export interface RedisAddress {
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
  readonly db: number;
  readonly tls: boolean;
}

const URL_FORM = 'a Redis URL redis://host:port[/db] or rediss://...';
/** Redis's `databases` is at most INT_MAX, so a db index is below it. */
const MAX_DB = 2_147_483_646;

/***@');
  }
}

/**
 * Parse a store URL, or say what was expected of it: `redis:` or `rediss:` (TLS; any case), a
 * host (an IPv6 address in brackets), a port 1..65535, a user and password percent-encoded, a db
 * 0..2147483646 as the path (none with `cluster`: a cluster has db 0 only), no query and no
 * fragment — ioredis reads a query's parameters as client options over the store's own
 * (`?enableOfflineQueue=true` queued decisions through an outage, `?autoResendUnfulfilledCommands=1`
 * ran one twice after a reconnect), and other clients read `?db=` or `?password=`, which would
 * be dropped in silence.
 */
export function parseRedisUrl(url: string, cluster = false): RedisAddress | { readonly expected: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // WHATWG's URL refuses a port past 65535 with the rest; say which part.
    const port = /^rediss?:\/\/[^/?#]*:(\d+)(?:[/?#]|$)/i.exec(url)?.[1];
    if (port !== undefined && Number(port) > 65535) return { expected: `${URL_FORM} with a port 1..65535` };
    return { expected: url.startsWith('/') || /^unix:/i.test(url) ? `${URL_FORM} (a unix socket is not supported: listen on 127.0.0.1)` : URL_FORM };
  }
  if ((u.protocol !== 'redis:' && u.protocol !== 'rediss:') || u.hostname === '') {
    return { expected: /^(unix|redis|rediss):\/\/\//i.test(url) || u.protocol === 'unix:' ? `${URL_FORM} (a unix socket is not supported: listen on 127.0.0.1)` : URL_FORM };
  }
  const port = u.port === '' ? 6379 : Number(u.port);
  if (!(port >= 1 && port <= 65535)) return { expected: `${URL_FORM} with a port 1..65535` };
  if (u.search !== '' || url.includes('?')) return { expected: `${URL_FORM} without query parameters (ioredis would take them as client options over the store's own; a db goes in the path: /2)` };
  if (u.hash !== '' || url.includes('#')) return { expected: `${URL_FORM} without a fragment ('#' in a password is written %23)` };
  const path = u.pathname.replace(/^\//, '');
  if (path !== '' && (!/^\d+$/.test(path) || Number(path) > MAX_DB)) return { expected: `${URL_FORM} whose path is a db number 0..${MAX_DB} (below the server's 'databases', 16 by default)` };
  const db = path === '' ? 0 : Number(path);
  if (cluster && db !== 0) return { expected: `${URL_FORM} without a db with cluster: true (a Redis Cluster has db 0 only)` };
  let username: string;
  let password: string;
  try {
    username = decodeURIComponent(u.username);
    password = decodeURIComponent(u.password);
  } catch {
    return { expected: `${URL_FORM} whose user and password are percent-encoded (a '%' in them is written %25)` };
  }
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    ...(username !== '' ? { username } : {}),
    ...(password !== '' ? { password } : {}),
    db,
    tls: u.protocol === 'rediss:',
  };
}

/** A Redis URL the store takes ({@link parseRedisUrl}). Throws naming `option`, what was wrong with it, and the URL without its password. */
export function checkUrl(option: string, url: unknown, cluster = false): RedisAddress {
  if (typeof url !== 'string') throw new InvalidOptionError(option, URL_FORM, url);
  const a = parseRedisUrl(url, cluster);
  if ('expected' in a) throw new InvalidOptionError(option, a.expected, redactUrl(url));
  return a;
}

/** Options of {@link RedisStore.leasedRateStore}. */
export interface LeasedRateOptions extends FailureOptions {
  /** Tokens taken beyond the cost of the request that needs them, per fetch: a number, or per policy. Integer >= 0. @default 4 */
  readonly batch?: number | ((policy: RatePolicy) => number);
  /** Tokens held unspent this long go back, ms. >= 1. @default 50 */
  readonly holdMs?: number;
  /** Keys held locally at most (least recently used go back). Integer >= 1. @default 10000 */
  readonly maxKeys?: number;
  /**
   * A spend that leaves a key this many tokens or fewer takes its next `batch + 1` in the
   * background, so callers at a steady pace do not wait for a script; tokens held per key go
   * up to `refillAt + batch + 1`. `false`: only a caller that finds none takes more (and waits).
   * Integer >= 0, or false. @default half the batch, rounded down (false for a batch of 0)
   */
  readonly refillAt?: number | false;
  /** See {@link RedisStoreOptions.keyNames}. @default the connection's (itself @default 'raw') */
  readonly keyNames?: TenantKeys;
}

export const LEASED_RATE_DEFAULTS = deepFreeze({ batch: 4, holdMs: 50, maxKeys: 10_000 } as const);

/** leasedRateStore's options, validated, as LeasedRateStore takes them (but its prefix). */
export function leasedRateConfig(options: LeasedRateOptions): { batchOf: (policy: RatePolicy) => number; holdMs: number; maxKeys: number; refillAt?: (policy: RatePolicy) => number } {
  const batch = options.batch ?? LEASED_RATE_DEFAULTS.batch;
  const batchOf = typeof batch === 'function' ? batch : (): number => batch;
  if (typeof batch !== 'function') optInt('batch', batch, 0);
  const holdMs = optNumber('holdMs', options.holdMs ?? LEASED_RATE_DEFAULTS.holdMs, 1);
  const maxKeys = optInt('maxKeys', options.maxKeys ?? LEASED_RATE_DEFAULTS.maxKeys, 1);
  const r = options.refillAt;
  if (r === false) return { batchOf, holdMs, maxKeys };
  if (r === undefined) return { batchOf, holdMs, maxKeys, refillAt: (p) => (batchOf(p) >= 1 ? Math.floor(batchOf(p) / 2) : -1) };
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 0) throw new InvalidOptionError('refillAt', 'an integer >= 0, or false', r);
  return { batchOf, holdMs, maxKeys, refillAt: () => r };
}
