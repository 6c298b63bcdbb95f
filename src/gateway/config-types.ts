/**
 * The gateway configuration: the shape of `sluice.yaml`, key for key. Durations carry their
 * unit (`100ms`, `2s`; a bare number is refused) and stay within a range per field (schema.ts
 * DURATION_RANGES); rates and sizes may be strings (`2000/s`, `10mb`) or numbers (per
 * second, bytes). Every default is in GATEWAY_DEFAULTS; `validateConfig` checks a value once
 * against the JSON Schema (schema.ts, published as docs/sluice.schema.json) and the rules
 * a schema cannot state (contradictions).
 */
import type { Duration, Rate, Size } from './units.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type CriticalityName = 'critical-plus' | 'critical' | 'sheddable-plus' | 'sheddable';
export type AlgorithmName = 'aimd' | 'vegas' | 'gradient2';

export interface ListenConfig {
  /** @default '0.0.0.0' (proxy), '127.0.0.1' (admin) */
  readonly host?: string;
  /** 0 picks a free port. @default 8080 (proxy), 9901 (admin) */
  readonly port?: number;
}

/** The proxy listener. */
export interface ProxyListenConfig extends ListenConfig {
  /**
   * Connections the kernel may hold for accepting (the listen backlog; Linux caps it at
   * net.core.somaxconn). A burst of new connections beyond it is dropped at SYN and retried
   * by clients a second later. @default 4096
   */
  readonly backlog?: number;
}

export interface AdminConfig extends ListenConfig {
  /** @default true */
  readonly enabled?: boolean;
  /**
   * How tenant keys (API keys: `tenant: { header }`) are shown by the admin listener — the
   * dashboard's top refused tenants: 'hash', a stable short hash of each (`key:#3f9a1c2b7d0e`;
   * an address as it is); 'raw', the keys themselves, to whoever can read the dashboard.
   * @default 'hash'
   */
  readonly tenantKeys?: 'hash' | 'raw';
}

/** Limits that protect the gateway itself. */
export interface ServerConfig {
  /** Longest a client may take to send its request headers. @default 10s */
  readonly headersTimeout?: Duration;
  /** Longest a client may take to send its whole request (0s: none). >= headersTimeout. @default 60s */
  readonly requestTimeout?: Duration;
  /** Idle keep-alive connections are closed after this. @default 5s */
  readonly keepAliveTimeout?: Duration;
  /** Largest request head, bytes. @default 16kb */
  readonly maxHeaderSize?: Size;
  /**
   * Largest request body; more is answered 413 (a declared Content-Length at once, a chunked
   * body as soon as it goes over, before a byte reaches the upstream). Bodies are read whole
   * into memory before admission, so a slow uploader never holds an upstream's slot.
   * A route's `maxBodySize` overrides it. @default 10mb
   */
  readonly maxBodySize?: Size;
  /** Longest a client may take to send its body, from its headers on; then 408 and the connection is closed (never admitted). @default 30s */
  readonly bodyTimeout?: Duration;
  /** Request bodies held in memory at once, all requests together (per process: each worker has its own); a body that does not fit is answered 503 + Retry-After. @default 256mb */
  readonly bodyMemory?: Size;
  /**
   * Response bytes held for one client ahead of what it has read. The upstream's response is
   * read into it at the upstream's pace: a response that fits ends the request's permit when
   * the upstream has sent it all, whatever the client does; a larger one keeps its slot and
   * upstream connection while the upstream waits for the client, and yields them (is cut off)
   * to requests that want them once its client has taken nothing for `slowReaderCutAfter`. @default 1mb
   */
  readonly responseBuffer?: Size;
  /** Response bytes held for slow clients at once, all responses together, per process (past it a response buffers no more). @default 256mb */
  readonly responseMemory?: Size;
  /**
   * While response bytes are pending for a client, it must take some within every window of
   * this length, at least `minReadRate` per second over it, or it is disconnected (the
   * upstream request is abandoned). @default 30s
   */
  readonly writeTimeout?: Duration;
  /**
   * How long a response larger than `responseBuffer` must have waited for its client (which
   * took nothing of what is pending meanwhile) before a request that finds every concurrency
   * slot taken may cut it for its slot. Shorter: slots come back sooner, and a client reading
   * at network speed is more likely cut for a moment's backlog; longer: requests wait (or are
   * refused) behind non-readers longer. From 0s (any such response may be cut) to 10m.
   * Applied again on reload. @default 500ms
   */
  readonly slowReaderCutAfter?: Duration;
  /**
   * Bytes per second a client must take of a pending response, over each `writeTimeout`
   * (Apache mod_reqtimeout's MinRate); a client that keeps up is never cut, however long the
   * response. From 0 (off: only a client that takes nothing for `writeTimeout` is cut) to 1gb.
   * @default 1kb
   */
  readonly minReadRate?: Size;
  /** Open client connections; more are answered 503 `connections_full` and closed (connection-limit.ts). @default 10000 */
  readonly maxConnections?: number;
  /** Requests waiting for admission across all routes; more are answered 503 at once. @default 10000 */
  readonly maxQueued?: number;
  /**
   * A refused keep-alive connection is not read again for min(its Retry-After, this), so a
   * client that re-sends at once is slowed by TCP instead of by the event loop (0s: off).
   * Never longer than half of keepAliveTimeout. A capacity refusal behind a line of paused
   * connections longer than this is paused for the line's length, up to half of keepAliveTimeout
   * and of headersTimeout, and its Retry-After says so. @default 1s
   */
  readonly pauseRefused?: Duration;
  /**
   * Refused connections are paused only while the event loop is saturated: its utilisation
   * (ELU, sampled every 100 ms) above this, held 1 s once engaged and while refused
   * connections are held paused. With room on the loop a
   * refusal is cheap and a paused connection would stall every request it carries. 0: pause
   * always. In [0, 0.99]. @default 0.9
   */
  readonly pauseRefusedLoad?: number;
  /**
   * Request headers clients may not set: dropped unless the peer is in `trustProxy` (an auth
   * proxy in front may set them). Besides these, X-Real-IP, True-Client-IP, X-Client-IP,
   * X-Cluster-Client-IP, CF-Connecting-IP, Fastly-Client-IP, X-Original-Forwarded-For,
   * X-Original-URL, X-Rewrite-URL and every X-Forwarded-* are always dropped from untrusted
   * peers. @default []
   */
  readonly stripHeaders?: readonly string[];
  /**
   * Processes serving the listener, sharing one limit (their primary leases slots and
   * tokens to them): an integer >= 1, or 'auto' for one per available core. Needs a
   * restart to change. @default 1
   */
  readonly workers?: number | 'auto';
  /**
   * With workers: a worker that sends its primary nothing for this long — no answer to its
   * status calls (one a second), late or not: stopped (SIGSTOP), in a debugger, in a loop
   * that never yields — is killed (SIGKILL) and a new one forked; the slots and tokens it
   * leased come back. 0s: never.
   * @default 30s
   */
  readonly workerTimeout?: Duration;
  /**
   * With workers: a worker not listening this long after it was forked — hung in its start
   * (a module load, a preload, a store connection that never answers) — is killed (SIGKILL)
   * and counted a failed start: forked again with the restarts' backoff (1 s, 2 s … 30 s). At
   * the gateway's own start, a worker that does not listen in time fails the start. 0s: never.
   * @default 2m
   */
  readonly workerStartTimeout?: Duration;
}

export interface DrainConfig {
  /** Longest in-flight requests may run after SIGTERM/SIGINT. @default 30s */
  readonly timeout?: Duration;
  /** Retry-After of requests refused while draining. @default 5s */
  readonly retryAfter?: Duration;
}

export interface LogConfig {
  /** @default 'info' */
  readonly level?: LogLevel;
}

export interface UpstreamConfig {
  /** `http://host:port[/base]`: the only place requests go. */
  readonly url: string;
  /** Longest wait for the upstream's final response head, from the request's dispatch to its connection pool: a wait for a free connection, the connect, the write, a resend and the upstream's silence together; then 504. @default 30s */
  readonly timeout?: Duration;
  /** Longest an upstream socket may sit idle mid-response; then the response is cut. @default 60s */
  readonly idleTimeout?: Duration;
  /** Keep-alive sockets to this upstream, at most. @default 256 */
  readonly maxSockets?: number;
}

/** A tenant's own policy: `rate` (and `burst`), or `limit` and `window`. */
export interface RateOverride {
  readonly rate?: Rate;
  readonly burst?: number;
  readonly limit?: number;
  readonly window?: Duration;
}

export interface RateLimitConfig {
  /** Name in RateLimit-Policy. @default 'default' when there is one rate limit (required otherwise) */
  readonly name?: string;
  /** @default 'gcra' with `rate`, 'sliding-window' with `limit` */
  readonly algorithm?: 'token-bucket' | 'gcra' | 'sliding-window';
  /** Bucket algorithms: units per period (`2000/s`). */
  readonly rate?: Rate;
  /** Bucket algorithms: the largest burst, >= 1. @default the rate's count in its own unit, at least 1 (2000/s: 2000; 100/min: 100, a minute's worth) */
  readonly burst?: number;
  /** Sliding window: units per window. */
  readonly limit?: number;
  /** Sliding window: its length. */
  readonly window?: Duration;
  /** Refusals count as `quota` (still 429). @default false */
  readonly quota?: boolean;
  /**
   * Most tenants remembered. Idle state (a full bucket, an unused window) is forgotten by time;
   * when every one is live, a new tenant takes the place of the least-used one and starts from its
   * usage (never less: a spent quota is never reset by key churn), and one refused only by that
   * inherited usage gets 503 `keys_full`. README, "Key tables under random keys". @default 100000
   */
  readonly maxKeys?: number;
  /** Per-tenant policies, keyed as the tenant resolver writes them (`key:gold-customer`, `ip:10.0.0.7`). */
  readonly overrides?: Readonly<Record<string, RateOverride>>;
}

export interface ConcurrencyConfig {
  /** In flight at once: a number, or `adaptive` (an algorithm sets it). */
  readonly limit: number | 'adaptive';
  /** With `adaptive`. @default 'gradient2' */
  readonly algorithm?: AlgorithmName;
  /** With `adaptive`. */
  readonly initialLimit?: number;
  readonly minLimit?: number;
  readonly maxLimit?: number;
  /** Requests that may wait for a slot. @default 0 */
  readonly queue?: number;
  /** Longest a request waits in the queue; needs queue >= 1. @default 5s */
  readonly queueTimeout?: Duration;
  /** @default 'fifo' */
  readonly discipline?: 'fifo' | 'lifo' | 'codel' | 'priority';
}

export interface BreakerConfig {
  /** Upstream failures (5xx, errors, timeouts) in a row that open the breaker. @default 5 */
  readonly failures?: number;
  /**
   * Also (or, without `failures`, only) open when failures / calls over `window` reaches this,
   * once the window holds `minimumCalls`: failures spread among successes never come in a row.
   * In (0, 1].
   */
  readonly failureRatio?: number;
  /** The failure ratio's window (only with failureRatio). @default 10s */
  readonly window?: Duration;
  /** Calls the window must hold before the ratio counts (only with failureRatio). @default 20 */
  readonly minimumCalls?: number;
  /** Time open before a probe. @default 10s */
  readonly openFor?: Duration;
}

export interface ShedConfig {
  /** Event-loop delay (p99 beyond schedule) at which sheddable requests are shed. @default 50ms */
  readonly slowAt?: Duration;
  /** Event-loop delay at which everything but the top class is shed. @default 200ms */
  readonly rejectAt?: Duration;
  /** Sampling period. @default 1s */
  readonly interval?: Duration;
}

export interface PolicyConfig {
  /** Who the tenant is: the client address, or a header (an API key). @default 'ip' */
  readonly tenant?: 'ip' | { readonly header: string };
  readonly rateLimits?: readonly RateLimitConfig[];
  /** A number (fixed, no queue), `adaptive`, or the full form. */
  readonly concurrency?: number | 'adaptive' | ConcurrencyConfig;
  readonly breaker?: BreakerConfig;
  readonly shed?: ShedConfig;
  /** A header in which clients may lower their criticality. */
  readonly criticalityHeader?: string;
  /** Longest a request waits for admission in total. @default no limit beyond the gates' own */
  readonly maxWait?: Duration;
  /** @default 'draft' */
  readonly headers?: 'draft' | 'legacy' | 'x' | 'none';
  /**
   * 'enforce' refuses; 'shadow' decides and counts what it would have refused (metrics, logs,
   * dashboard) but never refuses or delays; 'canary' enforces for `canaryPercent` of tenants
   * (a stable hash of the tenant key) and leaves the rest alone. @default 'enforce'
   */
  readonly mode?: PolicyMode;
  /** With mode canary: the share of tenants the policy applies to, percent in (0, 100]. */
  readonly canaryPercent?: number;
}

export type PolicyMode = 'enforce' | 'shadow' | 'canary';

/** Game-day fault injection on a route (off unless given): requests picked evenly, `percent` of them. */
export interface FaultConfig {
  /** Hold picked requests this long before forwarding (after admission: they hold their permit). */
  readonly delay?: { readonly duration: Duration; readonly percent: number };
  /** Answer picked requests with this status (400..599) instead of forwarding, as if the upstream had. */
  readonly abort?: { readonly status: number; readonly percent: number };
}

export interface RouteConfig {
  /** Name in logs and status. @default `route-<index>` */
  readonly name?: string;
  /** Path prefix, on segment boundaries (`/api` matches `/api` and `/api/x`, not `/apix`). @default '/' */
  readonly path?: string;
  /** Methods the route matches. @default every method */
  readonly methods?: readonly string[];
  /** A key of `upstreams`. @default the only upstream */
  readonly upstream?: string;
  /** A key of `policies`, or a policy of this route alone. @default no admission control */
  readonly policy?: string | PolicyConfig;
  /** Rate-limit units a request costs. @default 1 */
  readonly cost?: number;
  /** The route's criticality class. @default 'critical' */
  readonly criticality?: CriticalityName;
  /** Proxied without admission control. @default false */
  readonly exempt?: boolean;
  /**
   * TRACE is forwarded on this route (it echoes the request, credentials included, back to
   * the client: cross-site tracing); otherwise TRACE is answered 405. @default false
   */
  readonly allowTrace?: boolean;
  /**
   * Match `path` regardless of ASCII case (`/API/x` takes an `/api` route): for an upstream
   * that routes that way (Express's default, ASP.NET, IIS), so that no spelling of a path
   * reaches its handler by another route. The upstream gets the path as written. @default false
   */
  readonly caseInsensitive?: boolean;
  /** Longest this route's requests wait for admission. */
  readonly maxWait?: Duration;
  /** Largest request body on this route (413 beyond). @default server.maxBodySize */
  readonly maxBodySize?: Size;
  /** Injected delays and aborts for rehearsals. @default none */
  readonly fault?: FaultConfig;
}

/**
 * Where limits live when several gateways (hosts, or this host's workers) share them: Redis
 * (sluice/redis, ioredis an optional peer). Rate limits are decided there one script per
 * request, concurrency limits leased from there; see docs/redis.md.
 */
export interface StoreConfig {
  /** `redis://[user:password@]host:port[/db]` or `rediss://`. */
  readonly url: string;
  /** The URL is a seed node of a Redis Cluster. @default false */
  readonly cluster?: boolean;
  /** Prepended to every key; no braces. @default 'sluice:' */
  readonly keyPrefix?: string;
  /** What a decision does while the store cannot answer. @default 'local' */
  readonly onStoreError?: 'open' | 'closed' | 'local';
  /** Gateways sharing the limits: 'local' meters 1/instances of each. @default 1 */
  readonly instances?: number;
  /** Longest a store call may take before the failure mode decides. @default 250ms */
  readonly timeout?: Duration;
  /** Rate states written as 'binary', or as 'text' that versions before binary states read (a fleet upgraded gateway by gateway; both are read). @default 'binary' */
  readonly stateEncoding?: 'binary' | 'text';
  /**
   * How tenant keys are named in Redis: 'hash', by their SHA-256 (`key:#<base64url>`; an
   * address as it is), so whoever can list Redis's keys never reads an API key; 'raw', as
   * they are — the names versions before this option wrote (a fleet upgraded gateway by
   * gateway: a tenant named both ways has two buckets). @default 'hash'
   */
  readonly tenantKeys?: 'hash' | 'raw';
}

export interface GatewayConfig {
  readonly listen?: ProxyListenConfig;
  readonly admin?: AdminConfig;
  readonly server?: ServerConfig;
  readonly drain?: DrainConfig;
  readonly log?: LogConfig;
  /** Peers whose X-Forwarded-For / Forwarded is believed: addresses, CIDR blocks, `loopback`, `linklocal`, `uniquelocal`. @default none */
  readonly trustProxy?: readonly string[];
  /** The header trusted proxies write. @default 'x-forwarded-for' */
  readonly proxyHeader?: 'x-forwarded-for' | 'forwarded';
  /** Limits shared through Redis. @default none: each gateway's limits are its own */
  readonly store?: StoreConfig;
  readonly upstreams: Readonly<Record<string, UpstreamConfig>>;
  readonly policies?: Readonly<Record<string, PolicyConfig>>;
  /** Matched in order; the first match wins; a request no route matches is answered 404. */
  readonly routes: readonly RouteConfig[];
}
