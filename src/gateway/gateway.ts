/**
 * `startGateway(config)`: the sluice gateway, programmatically — a reverse proxy whose every
 * route is admitted by sluice/http, with an admin listener, atomic reloads and a graceful
 * drain. The CLI (`sluice gateway`) adds flags, a config file, signals and file watching.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../core/clock.js';
import { listen, localHostOf, urlOf } from './bound-listener.js';
import { loadMetrics, startAdmin } from './admin-server.js';
import type { AdminServer, GatewayMetrics } from './admin-server.js';
import type { GatewayConfig } from './config-types.js';
import { JsonLogger, optLogger, toLogger } from './logger.js';
import { optionKeys, optKnownKeys } from '../core/option-keys.js';
import { optClock } from '../core/options.js';
import { ConnectionLimit } from './connection-limit.js';
import type { PinoLikeLogger } from './logger.js';
import { BadRequests } from './bad-requests.js';
import { onClientError, onConnect, onVersionless } from './client-errors.js';
import { watchFirstLines } from './versionless-requests.js';
import { followChunkSizes } from './chunk-sizes.js';
import { PipelineLimit } from './pipeline-limit.js';
import type { PipelineHandler } from './pipeline-limit.js';
import { gateRooms } from './refusal-refill.js';
import { refusalPacing } from './refusal-pacing.js';
import { burstLogs } from './burst-logs.js';
import { SlowReaders } from './slow-readers.js';
import { MemoryBudget } from './memory-budget.js';
import { handleRequest, newCounters, refuseExpectation } from './request-handler.js';
import { expectationAsked } from './expect-continue.js';
import type { GatewayCounters, HandlerState } from './request-handler.js';
import { RouteTable } from './route-table.js';
import { handOverLimits } from './limit-handover.js';
import { restartNeeded } from './restart-settings.js';
import { ReloadRecord } from './reload-record.js';
import { gatewayStatus } from './status.js';
import type { GatewayStatus } from './status.js';
import { answerHalfOpen } from './half-close.js';
import { closeAfterUpgradeAsk } from './upgrade-requests.js';
import { GATEWAY_DEFAULTS } from './defaults.js';
import type { DashboardSample } from '../dashboard/dashboard.js';
import { gatewayDashboard } from './gateway-dashboard.js';
import { resolveConfig } from './validate-config.js';
import { startPrimary } from './primary.js';
import { SlotLeases } from './slot-leases.js';
import type { CrashAnswers } from './crash-answers.js';
import { destroyUpstreams, DrainDeadline, drainProxy } from './gateway-drain.js';
import { applyServerLimits } from './server-limits.js';
import { openStoreShare } from './store-share.js';
import type { WorkerShare } from './worker-share.js';

export interface GatewayOptions {
  /**
   * Where log lines go: a pino-compatible logger, called `(fields, msg)` (a JsonLogger works
   * too). @default JSON lines on stdout at the config's `log.level`
   */
  readonly logger?: PinoLikeLogger | JsonLogger;
  /** Clock of every gate. @default the system clock */
  readonly clock?: Clock;
  /**
   * Set by the primary in each of its workers (`server.workers` > 1): the limits this
   * process shares with the others. Without it, `server.workers` > 1 makes this call the
   * primary: it forks the workers and serves the admin listener.
   */
  readonly share?: WorkerShare;
  /** Set by a worker: the requests it owes an answer, for its crash handler (crash-answers.ts). */
  readonly crashAnswers?: CrashAnswers;
  /** Set by a worker: called once a drain closed its copy of the listener; resolves once every worker's is closed (accept-queue-grace.ts). */
  readonly listenerClosed?: () => Promise<void>;
  /** Set by a worker: handed how to render its running totals alone (counters, histograms) for its primary's status poll (running-totals.ts). */
  readonly runningTotals?: (render: () => Promise<string>) => void;
}

export interface Gateway {
  /**
   * The proxy's bound address as a URL: `listen.host` and the bound port (the one the OS
   * chose when the config asked for 0). By default `http://0.0.0.0:8080`: every IPv4
   * interface, reached locally through 127.0.0.1.
   */
  readonly url: string;
  /** The admin listener (`/metrics`, `/healthz`, `/readyz`, `/status`); '' when disabled. */
  readonly adminUrl: string;
  /** Every route's and gate's state, as JSON-safe data (what `/status` serves). */
  status(): GatewayStatus;
  /**
   * The Prometheus text `/metrics` serves; undefined when prom-client is not installed. With the admin listener on (the
   * default), prom-client is loaded at the start and every counter counts from it; with it off, from the first call of this.
   */
  metrics(): Promise<string | undefined>;
  /** The live dashboard's last sample (what `/dashboard/snapshot` serves; with workers, theirs merged). */
  dashboard(): DashboardSample;
  /**
   * Apply a new config atomically: the new route table is built whole, then swapped in.
   * Policies whose canonical hash is unchanged keep their gates (and limiter state); a changed
   * one's concurrency gate hands its place to the new one's: one limit (limit-handover.ts). An
   * invalid config rejects with GatewayConfigError and the old one keeps serving. Listener
   * addresses and maxHeaderSize need a restart (a change is logged and ignored).
   */
  reload(config: GatewayConfig): Promise<void>;
  /** Count a reload rejected before `reload()` could be asked (its file unreadable or not YAML): `/status` `reload` shows it. */
  reloadRejected(error: unknown): void;
  /**
   * Stop accepting; answer queued requests 503 + Retry-After; let in-flight requests finish
   * until the deadline (then cut them); close everything. Called while a drain runs, it brings
   * that drain's deadline to this one if sooner. @default deadline: the config's drain.timeout
   */
  drain(deadlineMs?: number): Promise<void>;
  /** Drain with no grace: in-flight requests are cut — those of a drain already running too. Idempotent. */
  close(): Promise<void>;
}

const GATEWAY_OPTION_KEYS = optionKeys<GatewayOptions>({ logger: true, clock: true, share: true, crashAnswers: true, listenerClosed: true, runningTotals: true });

/** The options argument, checked like every other options object before anything starts. */
function checkOptions(options: GatewayOptions): void {
  optKnownKeys('startGateway', options, GATEWAY_OPTION_KEYS);
  if (options.logger !== undefined) optLogger(options.logger);
  if (options.clock !== undefined) optClock(options.clock);
}

export async function startGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  checkOptions(options);
  const resolved = resolveConfig(config);
  if (resolved.server.workers > 1 && options.share === undefined) return startPrimary(config, resolved, options.logger === undefined ? {} : { logger: toLogger(options.logger) });
  const logger = options.logger === undefined ? new JsonLogger(resolved.logLevel) : toLogger(options.logger);
  // A store (Redis) replaces the primary as the home of the shared limits, for workers too.
  const store = resolved.store === undefined ? undefined : await openStoreShare(resolved.store, logger, resolved.server.workers);
  const share = store?.share ?? options.share;
  const crashAnswers = options.crashAnswers;
  const counters: GatewayCounters = newCounters();
  // Held engaged while the pacer holds a storm's connections paused (refusal-pacing.ts).
  const { loop, pacer } = refusalPacing(resolved.server, () => counters);
  const pipeline = new PipelineLimit(pacer, () => counters.pipelineCut++);
  const connections = new ConnectionLimit(resolved.server.maxConnections, (outcome) => {
    if (outcome === 'refused') counters.connectionsRefused++;
    else counters.connectionsDropped++;
    logger.debug(outcome === 'refused' ? 'connection refused 503: maxConnections reached' : 'connection closed at accept: maxConnections reached and refusals lingering', {});
  });
  // Before the route table: its concurrency gates ask them for room (slow-readers.ts).
  const slowReaders = new SlowReaders(resolved.server.slowReaderCutAfterMs, () => counters.slowReadersYielded++);
  // Leased slots (workers, a store): room on its way from the lease counts too (slot-lease.ts leaseRoom), and slow readers are cut for requests waiting on other workers.
  const leases = share === undefined ? undefined : new SlotLeases(share, slowReaders);
  const reclaimer = leases?.reclaimer(slowReaders) ?? slowReaders;
  const state: HandlerState = {
    table: new RouteTable(resolved, undefined, options.clock, share, reclaimer),
    draining: false,
    queued: 0,
    waiting: new Map(),
    logger,
    ...burstLogs(logger, options.clock),
    counters,
    badRequests: new BadRequests(logger, GATEWAY_DEFAULTS.rejectionLogMs),
    pacer,
    pipeline,
    slowReaders,
    ownHost: '',
    bodyMemory: new MemoryBudget(resolved.server.bodyMemory),
    responseMemory: new MemoryBudget(resolved.server.responseMemory),
  };
  pacer.refillFrom(() => gateRooms(state.table));
  // Built once: the pipeline limit runs one of these per request (pipeline-limit.ts), no closure each.
  const onRequest: PipelineHandler = (req, res) => handleRequest(state, req, res);
  const onContinue: PipelineHandler = (req, res) => handleRequest(state, req, res, true);
  const onExpectation: PipelineHandler = (_req, res) => refuseExpectation(state, res);
  const onHead = (req: IncomingMessage, res: ServerResponse, handler: PipelineHandler): void => {
    crashAnswers?.track(res);
    closeAfterUpgradeAsk(req, res); // an upgrade ask's answer closes its connection (upgrade-requests.ts)
    followChunkSizes(req); // now, while the parser is still in the read that completed this head (chunk-sizes.ts)
    pipeline.run(req, res, handler);
  };
  const startedAt = Date.now();
  const s = resolved.server;
  const server = createServer(
    {
      maxHeaderSize: s.maxHeaderSize,
      // Checked in message-checks.ts, so that a request without one is counted like every other bad request.
      requireHostHeader: false,
      headersTimeout: s.headersTimeoutMs,
      requestTimeout: s.requestTimeoutMs,
      // Node checks the two timeouts above on this period (30 s by default): slow clients must not outlive them by that much.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, s.headersTimeoutMs / 4)),
    },
    (req, res) => onHead(req, res, onRequest),
  );
  // Expect: 100-continue is answered 100 only once the request is admitted (expect-continue.ts); other expectations 417.
  // Either event, for the list's elements (`100-continue, teapot` is 417: hostile-3 H5; an empty one, or a bodiless request's, asks nothing).
  const onExpect = (req: IncomingMessage, res: ServerResponse): void => {
    const asked = expectationAsked(req, res);
    if (asked === 'other') return pipeline.run(req, res, onExpectation);
    onHead(req, res, asked === 'continue' ? onContinue : onRequest);
  };
  server.on('checkContinue', onExpect).on('checkExpectation', onExpect);
  crashAnswers?.attach(server);
  // A half-closed client is still reading: answered, then closed, the last head saying so. Once:
  // it adds listeners, and applyServerLimits runs again at every reload (hostile-10).
  answerHalfOpen(server, (socket) => pipeline.lastResponse(socket));
  pipeline.feedReads(server, () => counters.pipelineHeld++); // after node:http's 'connection' listener, before the cap's (pipeline-feed.ts)
  applyServerLimits(server, resolved, state.pacer, loop, logger, connections);
  // Every request it cannot parse gets an answer with its reason, counted and logged; CONNECT a 405.
  const lastOf = (socket: object): ServerResponse | undefined => pipeline.lastResponse(socket);
  server.on('clientError', onClientError(state.badRequests, s.maxHeaderSize, lastOf, { reads: pipeline, headersTimeoutMs: () => server.headersTimeout, answerAtTurn: (res, answer) => pipeline.answerAtTurn(res, answer) }, () => void state.counters.idleConnectionsClosed++));
  server.on('connect', onConnect(state.badRequests, lastOf));
  // An HTTP/0.9 request line (no version, no headers to follow) is answered 505 at once, not 408 after headersTimeout.
  // A first line longer than the head may be: its overflow is answered 414, not 431.
  watchFirstLines(server, s.maxHeaderSize, { versionless: onVersionless(state.badRequests), tooLong: (socket) => state.badRequests.markLongFirstLine(socket), headLine: (socket, line) => state.badRequests.keepHeadLine(socket, line) });
  // Last: in front of every 'connection' listener above (node:http's own, the first-line watch).
  connections.attach(server);
  // Every gate holds its share of the shared limits before the first request.
  await leases?.attach(state.table);
  // While the store is away the concurrency limits follow its failure mode, as its rate limits do.
  if (leases !== undefined) store?.onAway((away) => leases.storeAway(away));
  // Metrics count from before the first request, not from the first scrape: a refusal made before Prometheus first asks is in its
  // first answer. A worker loads them too (its primary's /metrics is its workers' merged), and samples the dashboard its primary's /dashboard shows. Made before listening.
  const dashboard = resolved.admin.enabled ? gatewayDashboard(state, resolved.admin.tenantKeys) : undefined;
  const loaded = resolved.admin.enabled ? await loadMetrics(state, dashboard) : undefined;
  let metrics: Promise<GatewayMetrics | undefined> | undefined = resolved.admin.enabled ? Promise.resolve(loaded) : undefined;
  if (loaded !== undefined) options.runningTotals?.(() => loaded.totals());
  // A start that cannot listen gives back what it opened: the store's connection too, which a failed start left open, reconnecting, keeping the process alive (gateway-edges).
  const abandon = async (err: unknown): Promise<never> => {
    dashboard?.close();
    loaded?.close();
    loop.stop();
    server.close();
    for (const p of state.table.policies.values()) p.close();
    await leases?.stop(state.table);
    await store?.close().catch(() => undefined);
    await destroyUpstreams(state.table);
    throw err;
  };
  try {
    await listen(server, resolved.listen.port, resolved.listen.host, resolved.listen.backlog);
  } catch (err) {
    return abandon(err);
  }
  const url = urlOf(server);
  state.ownHost = localHostOf(server);

  let admin: AdminServer | undefined;
  const reloads = new ReloadRecord();
  const status = (): GatewayStatus => ({ ...gatewayStatus(state, connections, startedAt), reload: reloads.snapshot(), ...(store === undefined ? {} : { store: store.status() }) });
  // A worker's admin is its primary's: /status and /metrics there cover every worker.
  if (dashboard !== undefined && options.share === undefined) {
    try {
      admin = await startAdmin(resolved.admin.host, resolved.admin.port, { status, state, logger, dashboard, metrics: loaded, ...(store === undefined ? {} : { storeStatus: () => store.status() }) });
    } catch (err) {
      return abandon(err);
    }
  }
  logger.info(options.share === undefined ? 'listening' : 'worker listening', { url, adminUrl: admin?.url ?? '', routes: resolved.routes.length });

  let drained: Promise<void> | undefined;
  let deadline: DrainDeadline | undefined;
  const drain = (deadlineMs = state.table.config.drain.timeoutMs): Promise<void> => {
    // A drain already running ends by this deadline if it is sooner (a second signal, close()).
    deadline?.shorten(deadlineMs);
    drained ??= (async () => {
      deadline = new DrainDeadline(deadlineMs);
      await drainProxy({ state, server, pipeline, loop, ...(options.listenerClosed === undefined ? {} : { listenerClosed: options.listenerClosed }) }, deadline);
      for (const p of state.table.policies.values()) p.retire([]);
      await leases?.stop(state.table);
      await store?.close();
      await admin?.close();
      dashboard?.close();
      (await metrics)?.close();
      logger.info('stopped', { requests: counters.requests, admitted: counters.admitted, rejected: counters.rejected });
    })();
    return drained;
  };

  const apply = async (next: GatewayConfig): Promise<void> => {
    if (state.draining) throw new Error('the gateway is draining');
    const c = resolveConfig(next);
    const old = state.table;
    const restart = restartNeeded(c, resolved); // against the config at start
    const table = new RouteTable(c, old, options.clock, share, reclaimer);
    await leases?.attach(table); // new gates hold their share before they serve
    state.table = table; // the swap: one assignment
    // The new gates are counted from their first request (a then() of a settled promise runs
    // before any I/O callback: before a request can reach them; metrics still loading listen
    // to the table they find), and the gateway's counters go on from what the replaced
    // policies and routes counted.
    void metrics?.then((m) => m?.replaced(old, table));
    applyServerLimits(server, c, state.pacer, loop, logger, connections);
    state.bodyMemory.capacity = c.server.bodyMemory;
    state.responseMemory.capacity = c.server.responseMemory;
    slowReaders.cutAfterMs = c.server.slowReaderCutAfterMs;
    if (options.logger === undefined && logger instanceof JsonLogger) logger.level = c.logLevel;
    const retired = table.retiredFrom(old);
    const handedOver = handOverLimits(old, table, retired.policies, (a, b) => state.pacer.rekey(a, b)); // one limit, not the old beside the new
    for (const p of retired.policies) p.retire(table.policies.values());
    leases?.retire(retired.policies, handedOver);
    // Requests still on a retired pool finish (close() waits for them); then its connections go.
    for (const p of retired.pools) void p.close().catch(() => undefined);
    const t = setTimeout(() => retired.pools.forEach((p) => void p.destroy().catch(() => undefined)), Math.max(...[...old.upstreams.values()].map((u) => u.config.timeoutMs)));
    t.unref();
    const kept = [...table.policies.keys()].filter((k) => old.policies.has(k)).length;
    logger.info('reloaded', { routes: c.routes.length, policiesKept: kept, policiesNew: table.policies.size - kept, limitsHandedOver: handedOver.size, ...(restart.length > 0 ? { needsRestart: restart } : {}) });
    await Promise.resolve();
  };

  return {
    url,
    adminUrl: admin?.url ?? '',
    status,
    dashboard: () => dashboard?.snapshot() ?? { t: Date.now(), groups: [] },
    metrics: async () => {
      metrics ??= loadMetrics(state);
      const m = await metrics;
      return m === undefined ? undefined : (await m.scrape()).body;
    },
    reload: (next) => reloads.track(() => apply(next)),
    reloadRejected: (error) => reloads.rejected(error),
    drain,
    close: () => drain(0),
  };
}
