/** The server section's rules (sizes, memory budgets, timeouts, workers) and the resolved config's defaults. */
import { availableParallelism, totalmem } from 'node:os';
import type { GatewayConfig } from './config-types.js';
import type { Issues, Path } from './config-issues.js';
import { GATEWAY_DEFAULTS } from './defaults.js';
import type { ResolvedConfig, ResolvedPolicy, ResolvedRoute, ResolvedUpstream } from './resolved-config.js';
import { reachesListener, sameListener } from './listen-host.js';
import { resolveStore } from './store-config.js';
import { durationMs, sizeBytes } from './units.js';
import type { Duration } from './units.js';

export function resolved(c: GatewayConfig, upstreams: Map<string, ResolvedUpstream>, policies: Map<string, ResolvedPolicy>, routes: ResolvedRoute[]): ResolvedConfig {
  const d = GATEWAY_DEFAULTS;
  const s = c.server ?? {};
  const ms = (v: Duration | undefined, fallback: number): number => (v === undefined ? fallback : durationMs(v));
  return {
    source: c,
    listen: { host: c.listen?.host ?? d.listen.host, port: c.listen?.port ?? d.listen.port, backlog: c.listen?.backlog ?? d.listen.backlog },
    admin: { enabled: c.admin?.enabled ?? d.admin.enabled, host: c.admin?.host ?? d.admin.host, port: c.admin?.port ?? d.admin.port, tenantKeys: c.admin?.tenantKeys ?? d.admin.tenantKeys },
    server: {
      headersTimeoutMs: ms(s.headersTimeout, d.server.headersTimeoutMs),
      requestTimeoutMs: ms(s.requestTimeout, d.server.requestTimeoutMs),
      keepAliveTimeoutMs: ms(s.keepAliveTimeout, d.server.keepAliveTimeoutMs),
      maxHeaderSize: sizeOr(s.maxHeaderSize, d.server.maxHeaderSize),
      maxBodySize: sizeOr(s.maxBodySize, d.server.maxBodySize),
      bodyTimeoutMs: ms(s.bodyTimeout, d.server.bodyTimeoutMs),
      bodyMemory: sizeOr(s.bodyMemory, d.server.bodyMemory),
      responseBuffer: sizeOr(s.responseBuffer, d.server.responseBuffer),
      responseMemory: sizeOr(s.responseMemory, d.server.responseMemory),
      writeTimeoutMs: ms(s.writeTimeout, d.server.writeTimeoutMs),
      slowReaderCutAfterMs: ms(s.slowReaderCutAfter, d.server.slowReaderCutAfterMs),
      minReadRate: sizeOr(s.minReadRate, d.server.minReadRate),
      maxConnections: s.maxConnections ?? d.server.maxConnections,
      maxQueued: s.maxQueued ?? d.server.maxQueued,
      stripHeaders: (s.stripHeaders ?? []).map((n) => n.toLowerCase()),
      // A pause ends well inside the keep-alive and header timeouts: a paused connection holding
      // half a pipelined request's head must not be answered 408 for time the gateway kept it waiting (hostile-2 P3).
      pauseRefusedMs: Math.min(ms(s.pauseRefused, d.server.pauseRefusedMs), ms(s.keepAliveTimeout, d.server.keepAliveTimeoutMs) / 2, ms(s.headersTimeout, d.server.headersTimeoutMs) / 2),
      pauseRefusedLoad: s.pauseRefusedLoad ?? d.server.pauseRefusedLoad,
      workers: resolvedWorkers(s.workers),
      workerTimeoutMs: ms(s.workerTimeout, d.server.workerTimeoutMs),
      workerStartTimeoutMs: ms(s.workerStartTimeout, d.server.workerStartTimeoutMs),
    },
    drain: { timeoutMs: ms(c.drain?.timeout, d.drain.timeoutMs), retryAfterMs: ms(c.drain?.retryAfter, d.drain.retryAfterMs) },
    logLevel: c.log?.level ?? d.log.level,
    trustProxy: c.trustProxy,
    proxyHeader: c.proxyHeader,
    store: resolveStore(c.store),
    upstreams,
    policies,
    routes,
  };
}

export function sizeOr(v: number | string | undefined, fallback: number): number {
  return v === undefined ? fallback : sizeBytes(v);
}

/** Memory budgets that could never hold what they are for: a body of the largest allowed size, one response buffer. */
export function checkMemory(c: GatewayConfig, routes: readonly ResolvedRoute[], serverMaxBody: number, issues: Issues): void {
  const d = GATEWAY_DEFAULTS.server;
  const s = c.server ?? {};
  const largest = Math.max(serverMaxBody, ...routes.map((r) => r.maxBodySize));
  const bodyMemory = sizeOr(s.bodyMemory, d.bodyMemory);
  if (bodyMemory < largest) issues.add(['server', s.bodyMemory !== undefined ? 'bodyMemory' : 'maxBodySize'], `bodyMemory (${bodyMemory} bytes) >= the largest maxBodySize (${largest} bytes): a body that size could never be read`, 'otherwise');
  const buffer = sizeOr(s.responseBuffer, d.responseBuffer);
  const responseMemory = sizeOr(s.responseMemory, d.responseMemory);
  if (responseMemory < buffer) issues.add(['server', s.responseMemory !== undefined ? 'responseMemory' : 'responseBuffer'], `responseMemory (${responseMemory} bytes) >= responseBuffer (${buffer} bytes)`, 'otherwise');
}

/** Upper bounds of the server's sizes: past them a value is a typo or a unit slip, not a setting. */
const SIZE_BOUNDS = {
  // maxHeaderSize's range is its schema field's (schema.ts): one message, whatever else is wrong.
  bodyMemory: { max: totalmem(), what: `<= this machine's memory (${Math.floor(totalmem() / 2 ** 20)} MB)` },
  responseMemory: { max: totalmem(), what: `<= this machine's memory (${Math.floor(totalmem() / 2 ** 20)} MB)` },
} as const;

/**
 * node:http's headersTimeout and requestTimeout, and undici's headersTimeout and bodyTimeout (an
 * upstream's timeout and idleTimeout), take whole milliseconds: given 1000.5 node:http throws at
 * start (naming no key) and undici refuses every request (each answered 502 upstream_unreachable).
 */
export function checkWholeMs(issues: Issues, path: Path, d: Duration | undefined): void {
  if (d !== undefined && !Number.isInteger(durationMs(d))) issues.add(path, 'a whole number of milliseconds (node:http and undici take no fraction of one)');
}

export function checkServer(c: GatewayConfig, issues: Issues): void {
  const s = c.server;
  checkWholeMs(issues, ['server', 'headersTimeout'], s?.headersTimeout);
  checkWholeMs(issues, ['server', 'requestTimeout'], s?.requestTimeout);
  for (const [key, bound] of Object.entries(SIZE_BOUNDS) as [keyof typeof SIZE_BOUNDS, { min?: number; max: number; what: string }][]) {
    const v = s?.[key];
    if (v !== undefined && (sizeOr(v, 0) > bound.max || sizeOr(v, 0) < (bound.min ?? 0))) issues.add(['server', key], `a size ${bound.what}`);
  }
  if (s?.requestTimeout === undefined) return;
  const request = durationMs(s.requestTimeout);
  const headers = s.headersTimeout === undefined ? GATEWAY_DEFAULTS.server.headersTimeoutMs : durationMs(s.headersTimeout);
  if (request !== 0 && request < headers) issues.add(['server', 'requestTimeout'], `0 (none) or a duration >= headersTimeout (${headers} ms)`);
}

export function resolvedWorkers(w: number | 'auto' | undefined): number {
  return w === 'auto' ? availableParallelism() : (w ?? GATEWAY_DEFAULTS.server.workers);
}

/** The admin listener on the proxy's port: named where the port was written (admin.port, else listen.port). */
export function checkAdminPort(c: GatewayConfig, issues: Issues): void {
  const d = GATEWAY_DEFAULTS;
  const listen = { host: c.listen?.host ?? d.listen.host, port: c.listen?.port ?? d.listen.port };
  const admin = { host: c.admin?.host ?? d.admin.host, port: c.admin?.port ?? d.admin.port };
  if (!sameListener(listen, admin)) return;
  if (c.admin?.port !== undefined) issues.add(['admin', 'port'], `a port other than the proxy's (${listen.port} on ${listen.host}: the two listeners cannot share it; 0 picks a free one)`);
  else issues.add(['listen', 'port'], `a port other than the admin listener's (${admin.port} on ${admin.host} by default: the two listeners cannot share it; give the admin listener another port, or turn it off)`);
}

/**
 * An upstream that is the gateway's own proxy or admin listener (reachesListener): every request
 * to it would come back to the gateway, or the admin paths (/status, /metrics) would be served
 * to every client of the proxy.
 */
export function checkOwnUpstream(c: GatewayConfig, name: string, upstream: { hostname: string; port: number }, issues: Issues): void {
  const d = GATEWAY_DEFAULTS;
  const listen = { host: c.listen?.host ?? d.listen.host, port: c.listen?.port ?? d.listen.port };
  const admin = { host: c.admin?.host ?? d.admin.host, port: c.admin?.port ?? d.admin.port };
  const at = (l: { host: string; port: number }): string => `${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`;
  if (reachesListener(upstream, listen)) {
    issues.add(['upstreams', name, 'url'], `an address other than the gateway's own proxy listener (${at(listen)}: every request would come back to the gateway, round and round until a slot or the Via hops ran out)`);
  } else if (c.admin?.enabled !== false && reachesListener(upstream, admin)) {
    issues.add(['upstreams', name, 'url'], `an address other than the gateway's own admin listener (${at(admin)}: /status, /metrics and the dashboard would be served to every client of the proxy)`);
  }
}
