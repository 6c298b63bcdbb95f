/**
 * `RedisStore`: one connection to Redis (or a Redis Cluster) shared by every limit that
 * lives there, with the guard (timeout and breaker) that decides when the limits fall back
 * to their `onStoreError`. Each limit gets its own view: {@link RedisStore.rateStore} for a
 * keyed rate limiter, {@link RedisStore.limitStore} for a process that leases batches.
 *
 * The client is ioredis: it speaks to a single node and to a Redis Cluster (slot routing,
 * MOVED/ASK, resharding) with one API, and is the most used and actively kept Node client.
 * Every script goes by EVALSHA, loaded on NOSCRIPT by EVAL or SCRIPT LOAD (script-call.ts). Rate decisions
 * issued in one tick share one script call (rate-batch.ts), which does what ioredis's
 * auto-pipelining would do for them and more (one command, not one per decision); the
 * store's own client leaves auto-pipelining off: bench:redis measures it costing more CPU
 * per command than it saves at low concurrency. On a client handed in with auto-pipelining
 * on, the rate scripts still go straight to the connection (script-call.ts): ioredis would
 * hold each batch until setImmediate and behind the pipeline in flight.
 *
 * The store's own client fails fast: no offline queue (a command while disconnected is an
 * error at once, not a wait), no resending of commands in flight when a connection drops (a
 * decision that may have run must not run twice), reconnect attempts every 50..500 ms.
 */
import { Cluster, Redis } from 'ioredis';
import type { CircuitBreaker } from '../breaker/circuit-breaker.js';
import { argOptions } from '../core/option-keys.js';
import { LeasedRateStore } from '../shared/leased-rate-store.js';
import { keyPart, keySlot } from './keys.js';
import { checkUrl, leasedRateConfig, redisStoreConfig, viewOptions } from './options.js';
import type { LeasedRateOptions, LimitStoreOptions, RateStoreOptions, RedisStoreConfig, RedisStoreOptions } from './options.js';
import { BREAKER_COMMAND, BREAKER_SCRIPT, LEASE_COMMAND, LEASE_SCRIPT } from './lease-scripts.js';
import { loadingError } from './not-ready.js';
import { ProbeKeys } from './probe-keys.js';
import { RateBatcher } from './rate-batch.js';

/** The store's probe: a write, refused where a decision would be (OOM, READONLY, NOPERM). */
const PROBE_COMMAND = 'sluiceProbe';
const PROBE_SCRIPT = "redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) return 1";
import { RedisLimitStore } from './redis-limit-store.js';
import { RedisRateStore } from './redis-rate-store.js';
import { silentMasters } from './cluster-start.js';
import { ScriptCall } from './script-call.js';
import { SharedBreaker } from './shared-breaker.js';
import { dropSilentConnections, silentServer } from './silent-server.js';
import type { SharedBreakerOptions } from './shared-breaker.js';
import { SharedConcurrencyGate } from './shared-concurrency.js';
import type { SharedConcurrencyOptions } from './shared-concurrency.js';
import { StoreGuard } from './store-guard.js';
import type { StoreHealth } from './store-guard.js';
import { linkHandle } from './store-link.js';
import type { StoreLink } from './store-link.js';

export type { RateStoreOptions } from './options.js';

/** How ioredis begins the error of a command sent while there is no connection. */
const NOT_WRITEABLE = "Stream isn't writeable";
/** What connect says when no error came before its wait ended. */
const NO_CONNECTION = 'no connection';

/** Reconnect delay of the store's own client, ms: attempt n after min(50·n, 500). */
const RECONNECT_MAX_MS = 500;

export class RedisStore {
  readonly config: RedisStoreConfig;
  readonly client: Redis | Cluster;
  readonly guard: StoreGuard;
  readonly #owned: boolean;
  readonly #link: StoreLink;
  #closed = false;
  #probe: NodeJS.Timeout | undefined;
  #connError: string | undefined;
  readonly #probeKeys: ProbeKeys;
  readonly #scripts: ReadonlyMap<string, ScriptCall>;

  /**
   * Connect (or adopt `options.client`) and wait up to `connectTimeoutMs` for the first
   * connection. Never rejects for an unreachable Redis: the store then starts in its
   * failure mode (`health` 'fallback', `guard.lastError` says why) and keeps reconnecting.
   * Throws InvalidOptionError for bad options (a URL that cannot be parsed names `url`).
   */
  static async connect(options: RedisStoreOptions = {}): Promise<RedisStore> {
    const s = new RedisStore(options);
    await s.#ready();
    await s.#checkEviction();
    return s;
  }

  /** Prefer {@link RedisStore.connect}, which waits for the connection. */
  constructor(options: RedisStoreOptions = {}) {
    argOptions('RedisStore', options);
    this.config = redisStoreConfig(options);
    this.#probeKeys = new ProbeKeys(this.config.keyPrefix);
    this.#owned = options.client === undefined;
    this.client = options.client ?? createClient(this.config);
    // isCluster, not instanceof: a client handed in may come from another copy of ioredis.
    const cluster = (this.client as { isCluster?: boolean }).isCluster === true ? (this.client as Cluster) : undefined;
    this.guard = new StoreGuard({
      timeoutMs: this.config.timeoutMs,
      failures: this.config.failures,
      probeMs: this.config.probeMs,
      explain: (why) => this.#explain(why),
      ...(cluster === undefined ? {} : { nodeOf: (key: string) => cluster.slots[keySlot(key)]?.[0] }),
    });
    // A connection refused by Redis itself (NOAUTH, WRONGPASS, NOPERM on the ready check) is
    // reported only as an 'error' event; the calls meanwhile fail with "Stream isn't
    // writeable". Keep it, to name the cause in those failures.
    this.client.on('error', (err: Error) => {
      // A command on a connection that is gone is the symptom, not the cause.
      if (err.message.startsWith(NOT_WRITEABLE)) return;
      this.#connError = this.#hint(err.message || err.name);
      // ioredis reports a refused SELECT (a db past the server's 'databases', an ACL without
      // SELECT) as an event and goes on to 'ready' on db 0, where every limit would then live,
      // apart from the processes on the right db. Drop that connection before it is ready:
      // the store stays in its failure mode, its errors naming why, and tries again.
      const command = (err as { command?: { name?: string; args?: unknown[] } }).command;
      if (command?.name === 'select' && this.#owned) {
        this.#connError = `${this.#connError} (SELECT ${String(command.args?.[0])}: the db of the store's URL)`;
        (this.client as Redis).disconnect(true);
      }
    });
    if (this.#owned && !this.config.cluster) dropSilentConnections(this.client as Redis, this.config.connectTimeoutMs, (why) => void (this.#connError = why));
    // Connected again: probe now, not at the next probeMs tick (store-guard.ts probeNow).
    this.client.on('ready', () => {
      this.#connError = undefined;
      if (!this.#closed) this.guard.probeNow(this.#probeCall);
    });
    // The lease, breaker and probe scripts go as ScriptCalls, as the rate scripts do (rate-batch.ts);
    // nothing is defined on the client (a user's client handed in grows no commands), and
    // defineCommand's first call on a connection is an EVAL, which a Redis user allowed EVALSHA
    // and SCRIPT LOAD but not EVAL is refused (script-call.ts).
    const scripts = new Map<string, ScriptCall>();
    for (const [name, lua] of [[LEASE_COMMAND, LEASE_SCRIPT], [BREAKER_COMMAND, BREAKER_SCRIPT], [PROBE_COMMAND, PROBE_SCRIPT]] as const) scripts.set(name, new ScriptCall(this.client, lua));
    this.#scripts = scripts;
    this.#link = {
      config: this.config,
      guard: this.guard,
      client: this.client,
      script: (name, keys, args) => this.guard.run(keys[0]!, () => scripts.get(name)!.send(['', keys.length, ...keys, ...args])),
      rate: new RateBatcher(this.guard, this.client, (this.client as { isCluster?: boolean }).isCluster === true, this.config.batch, this.config.stateEncoding),
      closed: () => this.#closed,
    };
    linkHandle(this, this.#link);
    // While in the failure mode, probe on a timer too: health comes back without traffic.
    this.guard.onHealth((h) => (h === 'fallback' ? this.#startProbing() : this.#stopProbing()));
  }

  /**
   * What a connection error means where ioredis's words do not say it: a `rediss://` store whose
   * server does not speak TLS (the TCP connection is up, the handshake never answered: connect
   * ETIMEDOUT), a URL pointing at something else than Redis (an HTTP server answers 'HTTP/1.1
   * 400': Unknown RESP type 72 "H"), a `rediss://` server whose certificate Node does not trust
   * (`self-signed certificate`, with no word of how to trust it), a `redis://` URL to a Redis
   * serving TLS alone (`read ECONNRESET`).
   */
  #hint(why: string): string {
    const stream = (this.client as { stream?: { connecting?: boolean } }).stream;
    if (this.config.url.toLowerCase().startsWith('rediss:') && (why === NO_CONNECTION || why.includes('ETIMEDOUT')) && stream?.connecting === false && this.client.status === 'connecting') {
      return `${why} (TCP connected, no TLS handshake: rediss:// needs a server with TLS on)`;
    }
    if (why.startsWith('Unknown RESP type')) return `${why} (not a Redis reply: is the port in the store's URL Redis's?)`;
    const tls = this.config.url.toLowerCase().startsWith('rediss:');
    if (tls && /certificate|CERT_|Hostname\/IP does not match/i.test(why)) return `${why} (rediss://: Node does not trust the server's certificate; give its CA by NODE_EXTRA_CA_CERTS=ca.pem, or a client with tls options: connect({ client }))`;
    // A Redis serving TLS alone resets a plain connection at its first bytes.
    if (!tls && why.includes('ECONNRESET')) return `${why} (the server closed the connection at once, as a TLS-only Redis does: rediss://?)`;
    return why;
  }

  /** A call that failed for want of a connection, with why the connection is not there (when known). */
  #explain(why: string): string {
    const c = this.#connError;
    if (c === undefined || this.client.status === 'ready' || why.includes(c)) return why;
    return `${why} (not connected: ${c})`;
  }

  #startProbing(): void {
    if (this.#probe !== undefined || this.#closed) return;
    this.#probe = setInterval(() => this.guard.probeNow(this.#probeCall), this.config.probeMs);
    this.#probe.unref();
  }

  /**
   * A probe is a script that writes, as a decision does: a PING is answered by a Redis that
   * refuses every decision — OOM under maxmemory, READONLY from a replica after a failover,
   * NOPERM for scripts — and each such probe said the store was back, until the next decisions
   * failed again: health flapped between shared and fallback, a 'store back' and a 'store
   * unavailable' line each time, twice a second. The key (`<keyPrefix>probe`, no hash tag, so
   * no store's) expires after probeMs. In a cluster, one key per master (`<keyPrefix>probe:{n}`,
   * probe-keys.ts): a single key checked one master, and a failed master holding the limits'
   * slots was not seen.
   */
  readonly #probeCall = (): Promise<unknown> => {
    const probe = (key: string): Promise<unknown> => this.#scripts.get(PROBE_COMMAND)!.send(['', 1, key, this.config.probeMs]);
    // isCluster, not instanceof: a client handed in may come from another copy of ioredis.
    if ((this.client as { isCluster?: boolean }).isCluster !== true) {
      // Connected, not ready: say why (a loading Redis) rather than "Stream isn't writeable".
      if (this.client.status !== 'connect') return probe(this.#probeKeys.single);
      return loadingError(this.client as Redis).then((err) => (err === undefined ? probe(this.#probeKeys.single) : Promise.reject(err)));
    }
    return Promise.all(this.#probeKeys.forMasters((this.client as Cluster).slots).map(probe));
  };

  #stopProbing(): void {
    clearInterval(this.#probe);
    this.#probe = undefined;
  }

  /** 'shared' while Redis answers; 'fallback' while limits decide by their `onStoreError`. */
  get health(): StoreHealth {
    return this.guard.health;
  }

  /** Why the store last failed (an outage's cause, or 'unreachable at start ...'). */
  get lastError(): string | undefined {
    return this.guard.lastError;
  }

  /** Hear 'shared' ⇄ 'fallback' changes, with the cause; returns the unsubscribe function. */
  onHealth(listener: (health: StoreHealth, cause: string | undefined) => void): () => void {
    return this.guard.onHealth(listener);
  }

  /**
   * A {@link RateStore} for a keyed rate limiter, its keys under `<keyPrefix><name>`; one
   * atomic script per decision. Give each limiter its own name.
   */
  rateStore(name: string, options: RateStoreOptions = {}): RedisRateStore {
    return new RedisRateStore(this, name, options);
  }

  /**
   * A {@link RateStore} that leases tokens in small batches (sluice/shared's LeasedRateStore
   * over {@link RedisStore.limitStore}): a request is served from tokens this process holds,
   * synchronously; only a key whose tokens ran out costs a script call, which takes `cost`
   * plus up to `batch` more. Across processes no more than rate·t + burst are ever admitted;
   * tokens held and unspent (at most `batch` per key and process, for up to `holdMs`) are
   * missing elsewhere until they go back. Callers cannot wait for tokens (maxWaitMs is not
   * honoured: they are refused with their Retry-After).
   */
  leasedRateStore(name: string, options: LeasedRateOptions = {}): LeasedRateStore {
    keyPart('name', name);
    viewOptions('leasedRateStore', options);
    const { keyNames, onStoreError, instances, ...leasing } = options;
    const o = leasedRateConfig(leasing);
    // Keys as rateStore(name) lays them out, named alike: processes that lease and processes that
    // ask per request share the buckets. The limit store sees this store under keyPrefix + name.
    const named = { config: { ...this.config, keyPrefix: this.config.keyPrefix + name }, guard: this.guard, client: this.client };
    linkHandle(named, { ...this.#link, config: named.config });
    const tokens = new RedisLimitStore(named, {
      ...(keyNames === undefined ? {} : { keyNames }),
      ...(onStoreError === undefined ? {} : { onStoreError }),
      ...(instances === undefined ? {} : { instances }),
    });
    return new LeasedRateStore(tokens, { prefix: '', ...o });
  }

  /**
   * The store as a {@link SharedLimitStore}: batches of tokens and slots (what the gateway's
   * workers lease from their primary, here from Redis). Slot leases last `leaseTtlMs`.
   */
  limitStore(options: LimitStoreOptions = {}): RedisLimitStore {
    return new RedisLimitStore(this, options);
  }

  /**
   * A concurrency limit shared by every process that names it alike (`options.name`):
   * slots leased in Redis with a TTL, callers queued in this process. See SharedConcurrencyGate.
   */
  concurrency(options: SharedConcurrencyOptions): SharedConcurrencyGate {
    return new SharedConcurrencyGate(this, options);
  }

  /** Share `breaker`'s openings and closings with every process sharing its name. See SharedBreaker. */
  shareBreaker(breaker: CircuitBreaker, options: SharedBreakerOptions = {}): SharedBreaker {
    return new SharedBreaker(this, breaker, options);
  }

  /**
   * Close the connection (if the store opened it) once the calls already sent have settled
   * (each within its timeout: a give-back issued just before is not lost), and stop the
   * guard's timer. Settles within about two timeouts whatever Redis does. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopProbing();
    await this.guard.settled();
    this.guard.close();
    if (this.#owned) await this.#quit();
  }

  /**
   * QUIT, then the connection closed — by QUIT's answer, or after `timeoutMs` without one: a
   * hung Redis (SIGSTOP, a stalled link) never answers, and close() never settled.
   */
  async #quit(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((r) => (timer = setTimeout(r, this.config.timeoutMs, false)));
    const quit = this.client.quit().then(
      () => true,
      () => false,
    );
    const answered = await Promise.race([quit, late]);
    clearTimeout(timer);
    if (answered) return;
    // disconnect() only ends the socket (a FIN), which a hung Redis does not answer: the socket
    // stayed half-open for seconds after close() (status 'ready'). Its sockets go at once.
    const c = this.client as { isCluster?: boolean; nodes?: (role: 'all') => unknown[] };
    const connections = c.isCluster === true && c.nodes !== undefined ? c.nodes('all') : [c];
    this.client.disconnect();
    for (const n of connections) (n as { stream?: { destroy(): void } }).stream?.destroy();
  }

  /**
   * Warn when Redis may evict sluice's keys: under any `maxmemory-policy` but noeviction, a full
   * Redis drops lease sets (all of them carry a TTL, so volatile-* policies pick them too) and
   * the work running on those slots goes uncounted — the concurrency limit is exceeded until
   * the holders renew. A server that refuses CONFIG (managed Redis) or is slow to answer is
   * not checked.
   */
  async #checkEviction(): Promise<void> {
    if (this.client.status !== 'ready') return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((r) => (timer = setTimeout(r, this.config.connectTimeoutMs, undefined)));
    const reply = await Promise.race([this.client.config('GET', 'maxmemory-policy').catch(() => undefined), late]);
    clearTimeout(timer);
    const policy = Array.isArray(reply) ? String(reply[1]) : undefined;
    if (policy === undefined || policy === 'noeviction') return;
    process.emitWarning(
      `sluice: the Redis store's server has maxmemory-policy ${policy}: once full it evicts sluice's keys — a shared concurrency limit's leases (the limit is then exceeded until their holders renew) and rate state (buckets refill). Use maxmemory-policy noeviction: a full Redis then refuses the writes, and decisions fall back to onStoreError.`,
      { code: 'SLUICE_REDIS_EVICTION' },
    );
  }

  async #ready(): Promise<void> {
    const c = this.client;
    const start = performance.now();
    if (c.status !== 'ready') await this.#firstConnection();
    // A cluster's client is ready with a master silent: found by a write on every master (cluster-start.ts).
    const cluster = c as Cluster;
    if (c.status !== 'ready' || cluster.isCluster !== true || this.guard.health !== 'shared') return;
    const ms = Math.max(this.config.timeoutMs, this.config.connectTimeoutMs - (performance.now() - start));
    const probe = (key: string): Promise<unknown> => this.#scripts.get(PROBE_COMMAND)!.send(['', 1, key, this.config.probeMs]);
    const silent = await silentMasters(cluster, this.#probeKeys.forMasters(cluster.slots), probe, ms);
    if (silent.length > 0) this.guard.trip(`unreachable at start: master ${silent.join(', master ')}`);
  }

  async #firstConnection(): Promise<void> {
    const c = this.client;
    const outcome = await new Promise<string | undefined>((resolve) => {
      const done = (why: string | undefined): void => {
        clearTimeout(t);
        c.off('ready', onReady);
        c.off('error', onError);
        resolve(why);
      };
      const onReady = (): void => done(undefined);
      let last = NO_CONNECTION;
      const onError = (err: Error): void => void (last = this.#connError ?? (err.message || err.name));
      const ms = this.config.connectTimeoutMs;
      const t = setTimeout(() => done(last === NO_CONNECTION && c.status === 'connect' ? `unreachable at start: ${silentServer(ms)}` : `unreachable at start (${last === NO_CONNECTION ? this.#hint(last) : last}) within ${ms} ms`), ms);
      c.on('ready', onReady);
      c.on('error', onError);
    });
    if (outcome !== undefined) this.guard.trip(outcome);
  }
}

function createClient(c: RedisStoreConfig): Redis | Cluster {
  // The URL parsed here, not by ioredis: it would take a query's parameters as options over
  // these, and take 'REDISS://' for plain TCP (options.ts parseRedisUrl).
  const a = checkUrl('url', c.url, c.cluster);
  const auth = { ...(a.username !== undefined ? { username: a.username } : {}), ...(a.password !== undefined ? { password: a.password } : {}) };
  const common = {
    enableAutoPipelining: false,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    connectTimeout: Math.max(100, c.connectTimeoutMs),
    retryStrategy: (n: number) => Math.min(50 * n, RECONNECT_MAX_MS),
    // A loading Redis is asked again this often (ioredis waits its ETA, up to 10 s, by default):
    // the store is shared within this of the load's end.
    maxLoadingRetryTime: RECONNECT_MAX_MS,
    ...auth,
    ...(a.tls ? { tls: {} } : {}),
  };
  let client: Redis | Cluster;
  if (c.cluster) {
    client = new Cluster([{ host: a.host, port: a.port }], {
      // Its ready check (CLUSTER INFO, a random node) waited on a silent master for good; the start probe names it (cluster-start.ts).
      enableReadyCheck: false,
      enableAutoPipelining: false,
      enableOfflineQueue: false,
      clusterRetryStrategy: (n: number) => Math.min(50 * n, RECONNECT_MAX_MS),
      redisOptions: common,
    });
  } else {
    client = new Redis({ ...common, host: a.host, port: a.port, db: a.db });
  }
  // The guard reports outages; an unhandled 'error' event would crash the process.
  client.on('error', () => undefined);
  return client;
}

