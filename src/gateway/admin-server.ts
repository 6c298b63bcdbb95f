/**
 * The admin listener, apart from the proxy port and on loopback by default:
 *   /healthz  200 while the process serves at all
 *   /readyz   503 while draining, or when every route's policy refuses everything (breaker
 *             open, pressure at `reject`), or while the store (`store:`) is away and its
 *             failure mode is 'closed': a load balancer should send traffic elsewhere
 *   /status   JSON of every route, policy and gate
 *   /metrics  Prometheus text (sluice/prometheus); 501 when prom-client is not installed —
 *             an optional peer, imported at the gateway's start (loadMetrics), so that every
 *             counter counts from then on; the gateway runs without it
 * Its bounds (hostile-11: it took any number of connections and held a head sent halfway 60 s,
 * so 300 of them took every descriptor of a process limited to 256, /healthz with them): at most
 * 24 connections, a head within 10 s, /healthz and /readyz answered whatever holds the others
 * (admin-connections.ts).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as PromClient from 'prom-client';
import type { Registry } from 'prom-client';
import { DASHBOARD_PATHS } from '../dashboard/dashboard.js';
import type { Dashboard } from '../dashboard/dashboard.js';
import { createAdminServer } from './admin-connections.js';
import { listenError } from './bound-listener.js';
import { GATEWAY_DEFAULTS } from './defaults.js';
import type { Logger } from './logger.js';
import type { PolicyInstance } from './policy-instance.js';
import type { HandlerState } from './request-handler.js';
import type { RouteTable } from './route-table.js';
import { runningTotals } from './running-totals.js';
import type { GatewayStatus } from './status.js';
import type { StoreStatus } from './store-share.js';

export interface AdminServer {
  readonly url: string;
  close(): Promise<void>;
}

export interface AdminDeps {
  readonly status: () => GatewayStatus;
  readonly state: HandlerState;
  readonly logger: Logger;
  /** Served under /dashboard; the gateway owns it (closes it when it stops). */
  readonly dashboard: Dashboard;
  /** The shared store's state, when `store:` is configured. */
  readonly storeStatus?: () => StoreStatus;
  /** What /metrics serves (loaded at the gateway's start); undefined: prom-client is not installed (501). */
  readonly metrics: GatewayMetrics | undefined;
}

export type Scrape = () => Promise<{ contentType: string; body: string }>;

export function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}

/** The admin listener's own paths (the dashboard's are under its basePath). */
const ADMIN_PATHS: readonly string[] = ['/healthz', '/readyz', '/status', '/metrics'];
export const NOT_FOUND = 'not found: try /healthz, /readyz, /status, /metrics, /dashboard\n';

/**
 * What no admin path serves, answered; true when it answered. A path the listener does not have
 * is 404 whatever the method (POST /nope was 405 while GET /nope was 404: "not allowed" on a
 * resource that does not exist). Every admin path reads, so only GET and HEAD are served on
 * one: any other method is 405 with `Allow` (hostile-9: POST, PUT, DELETE /status were
 * answered 200 as a GET, so a client or a proxy that retries or caches by method was told a
 * write had worked). Either way a request that is no read has its connection closed, its body
 * unread (a POST declaring 100 MB was left on a keep-alive connection). HEAD is a GET without
 * the body (node:http drops it).
 */
export function refuseUnserved(req: IncomingMessage, res: ServerResponse, dashboard: Pick<Dashboard, 'basePath'>): boolean {
  const path = (req.url ?? '/').split('?')[0]!;
  const base = dashboard.basePath;
  const known = ADMIN_PATHS.includes(path) || ((path === base || path.startsWith(`${base}/`)) && DASHBOARD_PATHS.includes(path.slice(base.length)));
  const read = req.method === 'GET' || req.method === 'HEAD';
  if (known && read) return false;
  const close = read ? {} : { Connection: 'close' };
  const [status, body, allow] = known ? [405, `method ${req.method ?? '?'} not allowed: the admin listener serves GET and HEAD\n`, { Allow: 'GET, HEAD' }] : [404, NOT_FOUND, {}];
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store', ...allow, ...close });
  res.end(body);
  return true;
}

/** The gateway's metrics: what /metrics serves, and a close that stops their recording. */
export interface GatewayMetrics {
  readonly scrape: Scrape;
  /** Its counters and histograms alone (running-totals.ts): what a worker answers its primary's status poll with. */
  totals(): Promise<string>;
  /**
   * A reload swapped `old` for `next`: the gates of `next` are listened to from now on (call
   * it before a request can reach them), and the gateway's counters carry what `old`'s
   * replaced parts counted.
   */
  replaced(old: RouteTable, next: RouteTable): void;
  /** Stop recording (the gateway stopped). Idempotent. */
  close(): void;
}

/**
 * prom-client's process metrics, one registry per process: their collectors (a GC observer,
 * an event-loop delay histogram) cannot be stopped, so gateways started one after another in
 * one process share them rather than leave one set running per gateway.
 */
let processRegistry: Registry | undefined;

/** prom-client's default gauges named `*_total`: `sum(nodejs_active_handles)` is `nodejs_active_handles_total`. */
const UNCOUNTED_TOTALS: readonly string[] = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/**
 * prom-client and sluice/prometheus, loaded and registered now: the counters (refusals by
 * reason, admissions, releases, drops) and histograms count every gate event from this call
 * on, so the gateway calls it before it listens. Undefined when prom-client is not installed.
 * The registry outlives reloads: a policy rebuilt by a reload has gates of the same names,
 * whose events go on adding to the same series; the gateway's own counters carry what the
 * replaced policies and routes counted (`replaced`).
 */
export async function loadMetrics(state: HandlerState, dashboard?: Dashboard): Promise<GatewayMetrics | undefined> {
  let prom: typeof PromClient;
  try {
    prom = await import('prom-client');
  } catch {
    return undefined;
  }
  const { registerPrometheusMetrics } = await import('../prometheus/index.js');
  const { registerGatewayMetrics } = await import('./gateway-metrics.js');
  if (processRegistry === undefined) {
    processRegistry = new prom.Registry();
    prom.collectDefaultMetrics({ register: processRegistry });
    // Gauges named *_total, which Prometheus keeps for counters (promtool check metrics names
    // them): the sum of the gauge of the same name without it, by type, which stays.
    for (const name of UNCOUNTED_TOTALS) processRegistry.removeSingleMetric(name);
  }
  const shared = processRegistry;
  const registry = new prom.Registry();
  const policies = (): PolicyInstance[] => [...state.table.policies.values()];
  const gates = registerPrometheusMetrics({
    registry,
    // This gateway's gates, through their listeners: not the process-wide channels, where
    // another gateway in the process (tests, an application embedding several) has gates of
    // the same names. Gates a reload builds are listened to from the swap (replaced()).
    events: 'gates',
    gates: () => policies().flatMap((p) => p.gates()),
    monitors: () => policies().flatMap((p) => (p.monitor === undefined ? [] : [p.monitor])),
    signalLatency: { intervalMs: GATEWAY_DEFAULTS.signalLatencyMs },
  });
  const replaced = registerGatewayMetrics(registry, state, dashboard);
  return {
    replaced: (old, next) => {
      gates.refresh();
      replaced(old, next);
    },
    scrape: async () => ({ contentType: registry.contentType, body: (await registry.metrics()) + (await shared.metrics()) }),
    totals: () => runningTotals([registry, shared]),
    close: () => gates.close(),
  };
}

export async function startAdmin(host: string, port: number, deps: AdminDeps): Promise<AdminServer> {
  const { dashboard, metrics } = deps;
  const server: Server = createAdminServer((req, res) => {
    if (refuseUnserved(req, res, dashboard) || dashboard.handle(req, res)) return;
    const path = (req.url ?? '/').split('?')[0];
    const { state } = deps;
    switch (path) {
      case '/healthz':
        return send(res, 200, 'ok\n');
      case '/readyz': {
        const policies = [...state.table.policies.values()];
        const refusing = policies.length > 0 && state.table.routes.every((r) => r.policy?.refusingAll === true);
        if (state.draining) return send(res, 503, 'draining\n');
        if (refusing) return send(res, 503, 'refusing all requests\n');
        const store = storeReadiness(deps.storeStatus === undefined ? [] : [deps.storeStatus()]);
        return store === undefined ? send(res, 200, 'ready\n') : send(res, store.status, store.body);
      }
      case '/status':
        return send(res, 200, `${JSON.stringify(deps.status(), null, 2)}\n`, 'application/json');
      case '/metrics':
        if (metrics === undefined) return send(res, 501, 'metrics need prom-client: npm install prom-client\n');
        metrics
          .scrape()
          .then((m) => send(res, 200, m.body, m.contentType))
          .catch((err: unknown) => {
            deps.logger.error('metrics failed', { error: String(err) });
            send(res, 500, 'metrics failed\n');
          });
        return;
      default:
        return send(res, 404, NOT_FOUND);
    }
  });
  return listenAdmin(server, host, port, () => dashboard.close());
}

/**
 * What /readyz says of the store, given the store's state in each process that has one (one,
 * or each worker's): nothing while all share; while any is in its failure mode, a line naming
 * the store, why, and the mode — 503 when that mode is 'closed' (it refuses every limited
 * request), else 200 "ready; …" (it serves, deciding by its mode).
 */
export function storeReadiness(stores: readonly StoreStatus[]): { status: number; body: string } | undefined {
  const away = stores.filter((s) => s.health === 'fallback');
  const s = away[0];
  if (s === undefined) return undefined;
  const where = stores.length > 1 ? ` in ${away.length} of ${stores.length} workers` : '';
  const line = `store ${s.url} unavailable${where} (${s.lastError ?? 'no answer'}): limits decide by onStoreError ${s.onStoreError}\n`;
  return s.onStoreError === 'closed' ? { status: 503, body: line } : { status: 200, body: `ready; ${line}` };
}

/**
 * Listen on `host:port` and answer what an admin listener is: its URL and a close that cuts its
 * connections; `onClose` ends what the listener owns besides (the dashboard's live streams).
 */
export async function listenAdmin(server: Server, host: string, port: number, onClose: () => void = () => undefined): Promise<AdminServer> {
  await new Promise<void>((resolve, reject) => {
    // Named, so that listening removes it: a later error of the server is not a failed start.
    const failed = (err: Error): void => {
      onClose();
      reject(listenError(err, 'admin', host, port));
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    url: `http://${shown}:${a.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        onClose();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
