/** The primary's admin listener (primary.ts): /status and /metrics over every worker. */
import type { Dashboard } from '../dashboard/dashboard.js';
import { createAdminServer } from './admin-connections.js';
import { listenAdmin, NOT_FOUND, refuseUnserved, send, storeReadiness } from './admin-server.js';
import type { AdminServer } from './admin-server.js';
import { MetricsUnansweredError } from './prometheus-merge.js';
import type { StoreStatus } from './store-share.js';
import type { RestartFailure } from './worker-restarts.js';

/** How long a scrape waits for the workers' series without a scrape timeout of its own. */
export const METRICS_TIMEOUT_MS = 30_000;

export interface PrimaryAdminDeps {
  readonly status: () => Promise<object>;
  readonly metrics: (timeoutMs?: number) => Promise<string | undefined>;
  readonly draining: () => boolean;
  /** Each worker's store (`store:`), from its last status (refreshed every second). */
  readonly stores: () => StoreStatus[];
  /** Present while fewer workers serve than `server.workers` (primary.ts). */
  readonly degraded: () => { readonly workers: number; readonly of: number; readonly failing: readonly RestartFailure[] } | undefined;
  readonly dashboard: Dashboard;
}

/**
 * The admin listener of a primary: the same paths as admin-server.ts, over every worker;
 * /readyz says whether the workers' store is away (each worker has its own connection).
 */
export function startPrimaryAdmin(host: string, port: number, deps: PrimaryAdminDeps): Promise<AdminServer> {
  const server = createAdminServer((req, res) => {
    if (refuseUnserved(req, res, deps.dashboard) || deps.dashboard.handle(req, res)) return;
    const path = (req.url ?? '/').split('?')[0];
    const fail = (err: unknown): void => send(res, 500, `${String(err)}\n`);
    switch (path) {
      case '/healthz':
        return send(res, 200, 'ok\n');
      case '/readyz': {
        if (deps.draining()) return send(res, 503, 'draining\n');
        const verdicts = [workersReadiness(deps.degraded()), storeReadiness(deps.stores())].flatMap((v) => (v === undefined ? [] : [v]));
        const unready = verdicts.find((v) => v.status === 503);
        if (unready !== undefined) return send(res, 503, unready.body);
        // Ready, with what it serves without: `ready; degraded: 1 of 2 workers serving (…); store … unavailable …`.
        const notes = verdicts.map((v) => v.body.replace(/^ready; /, '').trimEnd());
        return send(res, 200, notes.length === 0 ? 'ready\n' : `ready; ${notes.join('; ')}\n`);
      }
      case '/status':
        return void deps.status().then((s) => send(res, 200, `${JSON.stringify(s, null, 2)}\n`, 'application/json'), fail);
      case '/metrics':
        return void deps.metrics(scrapeTimeoutMs(req.headers['x-prometheus-scrape-timeout-seconds'])).then(
          (m) => (m === undefined ? send(res, 501, 'metrics need prom-client: npm install prom-client\n') : send(res, 200, m, 'text/plain; version=0.0.4; charset=utf-8')),
          (err: unknown) => (err instanceof MetricsUnansweredError ? send(res, 503, `${err.message}\n`) : fail(err)),
        );
      default:
        return send(res, 404, NOT_FOUND);
    }
  });
  return listenAdmin(server, host, port, () => deps.dashboard.close());
}

/**
 * /readyz's word on the workers: 503 when none serves (nothing would answer a request: its
 * connection waits in the listener's queue), else ready but degraded while fewer serve than
 * `server.workers` — still worth traffic (each worker serves within the shared limits), but
 * not the whole capacity, and a worker failing to start says why. Until reload-edges /readyz
 * said `ready` with workers missing for good.
 */
export function workersReadiness(degraded: ReturnType<PrimaryAdminDeps['degraded']>): { status: number; body: string } | undefined {
  if (degraded === undefined) return undefined;
  const failing = degraded.failing.map((f) => `worker ${f.worker} failed to start ${f.tries} times since ${f.since}, forked again with a backoff: ${f.error}`);
  const line = `degraded: ${degraded.workers} of ${degraded.of} workers serving${failing.length === 0 ? '' : ` (${failing.join('; ')})`}\n`;
  return degraded.workers === 0 ? { status: 503, body: `no worker serving: ${line}` } : { status: 200, body: line };
}

/**
 * How long a scrape may wait for the workers' series: within the scrape timeout Prometheus
 * sends (`X-Prometheus-Scrape-Timeout-Seconds`, less a margin for the answer's way back), so
 * that a worker that does not answer (stopped) costs its own series, not the whole scrape —
 * waiting METRICS_TIMEOUT_MS (30 s) on it outlasted Prometheus's 10 s default, and the healthy
 * workers' series were lost with it (hostile-9). Without the header, METRICS_TIMEOUT_MS.
 */
export function scrapeTimeoutMs(header: string | string[] | undefined): number {
  const s = typeof header === 'string' ? Number(header) : NaN;
  if (!Number.isFinite(s) || s <= 0) return METRICS_TIMEOUT_MS;
  return Math.max(100, Math.min(METRICS_TIMEOUT_MS, s * 1000 - 250));
}
