/**
 * Checking a config once: the JSON Schema (ajv) for shapes and ranges, then the rules a
 * schema cannot state — references between sections, contradictions between keys — and
 * finally the HTTP admission layer's own validation of each policy. Every problem is
 * collected (not just the first) and reported with its file, line and key path.
 */
import { availableParallelism, totalmem } from 'node:os';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { InvalidOptionError } from '../core/errors.js';
import { HttpAdmission } from '../http/admission.js';
import { trustCheck } from '../http/trusted-proxies.js';
import { canonicalHash } from './canonical.js';
import { canonicalTarget } from './canonical-path.js';
import { formatPath, GatewayConfigError } from './config-error.js';
import type { ConfigIssue } from './config-error.js';
import type { GatewayConfig, PolicyConfig, RouteConfig } from './config-types.js';
import { GATEWAY_DEFAULTS } from './defaults.js';
import { identityHeaderIssues } from './identity-headers.js';
import { isListenHost, LISTEN_HOST_EXPECTED } from './listen-host.js';
import { compileSchema } from './duration-schema.js';
import { rolloutIssues } from './policy-mode.js';
import { claimGateNames, concurrencyForm, policyParts, rateCapacities } from './policy-options.js';
import type { ResolvedConfig, ResolvedPolicy, ResolvedRoute, ResolvedUpstream } from './resolved-config.js';
import { CONFIG_SCHEMA } from './schema.js';
import { redisUrlOk, resolveStore } from './store-config.js';
import { foundAt, schemaIssues } from './schema-errors.js';
import { durationMs, sizeBytes } from './units.js';
import type { Duration } from './units.js';
import type { ConfigSource } from './yaml-source.js';

let compiled: ValidateFunction | undefined;

function schemaValidator(): ValidateFunction {
  compiled ??= compileSchema(CONFIG_SCHEMA);
  return compiled;
}

type Path = readonly (string | number)[];

class Issues {
  readonly list: ConfigIssue[] = [];
  constructor(
    readonly root: unknown,
    readonly source: ConfigSource | undefined,
  ) {}
  add(path: Path, expected: string, found?: string): void {
    this.list.push({ path: formatPath(path), line: this.source?.lineOf(path), expected, found: found ?? foundAt(this.root, path, this.source) });
  }
}

/**
 * Which parts of the document the schema found broken: the rules below run on a part (the
 * server section, an upstream, a policy, a route) only when its shape is sound, so one run
 * reports the schema's errors and every other rule's together. An unknown key does not make
 * the known keys beside it unsound.
 */
function soundness(errors: readonly ErrorObject[]): { sound: (path: Path) => boolean; shaped: (path: Path) => boolean } {
  const broken = errors.filter((e) => e.keyword !== 'additionalProperties').map((e) => e.instancePath);
  const pointer = (path: Path): string => path.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
  /** No error at the part or around it (its own type is right). */
  const shaped = (path: Path): boolean => {
    const at = pointer(path);
    return !broken.some((b) => b === at || b === '' || at.startsWith(`${b}/`));
  };
  /** ... nor anywhere inside it. */
  const sound = (path: Path): boolean => {
    const at = pointer(path);
    return shaped(path) && !broken.some((b) => b.startsWith(`${at}/`));
  };
  return { sound, shaped };
}

/**
 * Validate a config (from a file when `source` is given, else an object built in code) and
 * resolve it. Throws GatewayConfigError listing every problem — the schema's and the rules'
 * together, in the order of the file's lines.
 */
export function resolveConfig(value: unknown, source?: ConfigSource): ResolvedConfig {
  const file = source?.file ?? '<config>';
  const validate = schemaValidator();
  const errors = validate(value) ? [] : (validate.errors ?? []);
  const fromSchema = schemaIssues(errors, value, source);
  const { sound, shaped } = soundness(errors);
  const usable =
    typeof value === 'object' &&
    value !== null &&
    shaped(['upstreams']) &&
    shaped(['routes']) &&
    shaped(['policies']) &&
    typeof (value as GatewayConfig).upstreams === 'object' &&
    Array.isArray((value as GatewayConfig).routes);
  if (!usable) throw new GatewayConfigError(file, fromSchema);
  const c = value as GatewayConfig;
  const issues = new Issues(value, source);
  const fail = (): never => {
    const all = [...fromSchema, ...issues.list].map((issue, order) => ({ issue, order }));
    all.sort((a, b) => (a.issue.line ?? Infinity) - (b.issue.line ?? Infinity) || a.order - b.order);
    throw new GatewayConfigError(file, all.map((x) => x.issue));
  };
  if (sound(['server'])) checkServer(c, issues);
  for (const section of ['listen', 'admin'] as const) {
    const host = c[section]?.host;
    if (sound([section]) && host !== undefined && !isListenHost(host)) issues.add([section, 'host'], LISTEN_HOST_EXPECTED);
  }
  if (c.trustProxy !== undefined && sound(['trustProxy'])) {
    try {
      trustCheck(c.trustProxy);
    } catch (err) {
      const m = err instanceof InvalidOptionError ? /^trustProxy\[(\d+)\]/.exec(err.option) : null;
      issues.add(m === null ? ['trustProxy'] : ['trustProxy', Number(m[1])], 'an IP address, a CIDR block or one of loopback, linklocal, uniquelocal');
    }
  }
  if (c.proxyHeader !== undefined && c.trustProxy === undefined) issues.add(['proxyHeader'], 'no proxyHeader without trustProxy (no proxy header is read unless proxies are trusted)');
  if (c.store !== undefined && !redisUrlOk(c.store.url)) issues.add(['store', 'url'], 'a Redis URL redis://host:port[/db] or rediss://...');

  const upstreams = new Map<string, ResolvedUpstream>();
  for (const [name, u] of Object.entries(c.upstreams)) {
    if (!sound(['upstreams', name])) continue;
    const url = parseUrl(u.url);
    if (url === undefined) {
      issues.add(['upstreams', name, 'url'], 'http://host:port[/base]');
      continue;
    }
    const port = url.port === '' ? 80 : Number(url.port);
    const timeoutMs = u.timeout === undefined ? GATEWAY_DEFAULTS.upstream.timeoutMs : durationMs(u.timeout);
    const idleTimeoutMs = u.idleTimeout === undefined ? GATEWAY_DEFAULTS.upstream.idleTimeoutMs : durationMs(u.idleTimeout);
    const maxSockets = u.maxSockets ?? GATEWAY_DEFAULTS.upstream.maxSockets;
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const basePath = url.pathname.replace(/\/+$/, '');
    const settings = { hostname, port, basePath, timeoutMs, idleTimeoutMs, maxSockets };
    upstreams.set(name, { name, ...settings, host: url.host, origin: `http://${url.host}`, key: canonicalHash(settings) });
  }

  const shared = { trustProxy: c.trustProxy, proxyHeader: c.proxyHeader };
  const workers = sound(['server']) ? resolvedWorkers(c.server?.workers) : undefined;
  const policies = new Map<string, ResolvedPolicy>();
  const gateNames = new Map<string, string>();
  const resolvePolicy = (p: PolicyConfig, name: string, path: Path): ResolvedPolicy | undefined => {
    if (!sound(path)) return undefined;
    const before = issues.list.length;
    checkPolicy(p, path, issues, c.server?.stripHeaders);
    if (workers !== undefined) checkLeasedLimit(p, path, workers, issues);
    if (issues.list.length > before) return undefined;
    try {
      // The admission layer's own checks, once, on a throwaway instance.
      const parts = policyParts(p, name, { ...shared, clock: undefined });
      const admission = new HttpAdmission(parts.options);
      admission.close();
      const clash = claimGateNames(gateNames, admission.gates, name);
      if (clash !== undefined) return void issues.add(path, clash.expected, clash.found);
    } catch (err) {
      if (!(err instanceof InvalidOptionError)) throw err;
      const m = /^(.*?): expected (.*), received (.*)$/.exec(err.message);
      issues.add(path, m === null ? err.message : `${m[1]} ${m[2]}`, m?.[3] ?? 'otherwise');
      return undefined;
    }
    return { name, config: p, key: canonicalHash({ name, p, shared }) };
  };
  for (const [name, p] of Object.entries(c.policies ?? {})) {
    const r = resolvePolicy(p, name, ['policies', name]);
    if (r !== undefined) policies.set(name, r);
  }

  const routes: ResolvedRoute[] = [];
  const serverMaxBody = sound(['server']) ? sizeOr(c.server?.maxBodySize, GATEWAY_DEFAULTS.server.maxBodySize) : GATEWAY_DEFAULTS.server.maxBodySize;
  const names = new Set<string>();
  const onlyUpstream = upstreams.size === 1 ? [...upstreams.values()][0] : undefined;
  c.routes.forEach((r: RouteConfig, i) => {
    if (!sound(['routes', i])) return;
    const name = r.name ?? `route-${i}`;
    if (names.has(name)) issues.add(['routes', i, 'name'], 'a route name not used by another route');
    names.add(name);
    const path = (r.path ?? '/').replace(/(.)\/+$/, '$1');
    // Requests are routed on their canonical path (canonical-path.ts): a route written another way could never match.
    const canonical = path.includes('?') ? undefined : canonicalTarget(path);
    if (canonical?.ok !== true || canonical.path !== path) {
      issues.add(['routes', i, 'path'], canonical?.ok === true ? `a canonical path (requests are routed on theirs): here ${JSON.stringify(canonical.path)}` : 'a canonical path (no query, "..", backslash, encoded slash or control character)');
    }
    let upstream: ResolvedUpstream | undefined;
    if (r.upstream === undefined) {
      if (Object.keys(c.upstreams).length > 1) issues.add(['routes', i], `an upstream (one of ${Object.keys(c.upstreams).join(', ')}) when there are several`, 'no upstream');
      upstream = onlyUpstream;
    } else {
      upstream = upstreams.get(r.upstream);
      if (upstream === undefined && !(r.upstream in c.upstreams)) issues.add(['routes', i, 'upstream'], `one of the upstreams ${Object.keys(c.upstreams).join(', ')}`);
    }
    let policy: ResolvedPolicy | undefined;
    if (typeof r.policy === 'string') {
      policy = policies.get(r.policy);
      if (policy === undefined && !(r.policy in (c.policies ?? {}))) {
        const known = Object.keys(c.policies ?? {});
        issues.add(['routes', i, 'policy'], known.length === 0 ? 'an inline policy (no policies are defined)' : `one of the policies ${known.join(', ')}`);
      }
    } else if (r.policy !== undefined) {
      policy = resolvePolicy(r.policy, `routes[${i}].policy`, ['routes', i, 'policy']);
    }
    if (r.exempt === true && (r.cost !== undefined || r.criticality !== undefined || r.maxWait !== undefined)) {
      issues.add(['routes', i, 'exempt'], 'no cost, criticality or maxWait on an exempt route (it is not admitted at all)');
    }
    if (policy === undefined && r.policy === undefined && (r.cost !== undefined || r.criticality !== undefined || r.maxWait !== undefined)) {
      issues.add(['routes', i], 'a policy for cost, criticality or maxWait to act on', 'none');
    }
    const policyConfig = typeof r.policy === 'string' ? (sound(['policies', r.policy]) ? c.policies?.[r.policy] : undefined) : r.policy;
    if (policyConfig !== undefined && r.cost !== undefined) checkCost(r.cost, policyConfig, typeof r.policy === 'string' ? `policy ${r.policy}` : "the route's policy", ['routes', i, 'cost'], issues);
    if (upstream === undefined) return;
    routes.push({
      name,
      path,
      lowerPath: r.caseInsensitive === true ? path.toLowerCase() : undefined,
      methods: r.methods === undefined ? undefined : new Set(r.methods),
      upstream,
      policy,
      cost: r.cost,
      criticality: r.criticality,
      exempt: r.exempt ?? false,
      allowTrace: r.allowTrace ?? false,
      maxWaitMs: r.maxWait === undefined ? undefined : durationMs(r.maxWait),
      maxBodySize: sizeOr(r.maxBodySize, serverMaxBody),
      fault: r.fault,
    });
  });
  if (sound(['server'])) checkMemory(c, routes, serverMaxBody, issues);
  if (fromSchema.length > 0 || issues.list.length > 0) fail();
  return resolved(c, upstreams, policies, routes);
}

function resolved(c: GatewayConfig, upstreams: Map<string, ResolvedUpstream>, policies: Map<string, ResolvedPolicy>, routes: ResolvedRoute[]): ResolvedConfig {
  const d = GATEWAY_DEFAULTS;
  const s = c.server ?? {};
  const ms = (v: Duration | undefined, fallback: number): number => (v === undefined ? fallback : durationMs(v));
  return {
    source: c,
    listen: { host: c.listen?.host ?? d.listen.host, port: c.listen?.port ?? d.listen.port, backlog: c.listen?.backlog ?? d.listen.backlog },
    admin: { enabled: c.admin?.enabled ?? d.admin.enabled, host: c.admin?.host ?? d.admin.host, port: c.admin?.port ?? d.admin.port },
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
      minReadRate: sizeOr(s.minReadRate, d.server.minReadRate),
      maxConnections: s.maxConnections ?? d.server.maxConnections,
      maxQueued: s.maxQueued ?? d.server.maxQueued,
      stripHeaders: (s.stripHeaders ?? []).map((n) => n.toLowerCase()),
      // A pause ends well inside the keep-alive and header timeouts: a paused connection holding
      // half a pipelined request's head must not be answered 408 for time the gateway kept it waiting (hostile-2 P3).
      pauseRefusedMs: Math.min(ms(s.pauseRefused, d.server.pauseRefusedMs), ms(s.keepAliveTimeout, d.server.keepAliveTimeoutMs) / 2, ms(s.headersTimeout, d.server.headersTimeoutMs) / 2),
      pauseRefusedLoad: s.pauseRefusedLoad ?? d.server.pauseRefusedLoad,
      workers: resolvedWorkers(s.workers),
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

function parseUrl(s: string): URL | undefined {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' && u.hostname !== '' && u.search === '' && u.hash === '' && u.username === '' ? u : undefined;
  } catch {
    return undefined;
  }
}

function sizeOr(v: number | string | undefined, fallback: number): number {
  return v === undefined ? fallback : sizeBytes(v);
}

/** Memory budgets that could never hold what they are for: a body of the largest allowed size, one response buffer. */
function checkMemory(c: GatewayConfig, routes: readonly ResolvedRoute[], serverMaxBody: number, issues: Issues): void {
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

function checkServer(c: GatewayConfig, issues: Issues): void {
  const s = c.server;
  for (const [key, bound] of Object.entries(SIZE_BOUNDS) as [keyof typeof SIZE_BOUNDS, { min?: number; max: number; what: string }][]) {
    const v = s?.[key];
    if (v !== undefined && (sizeOr(v, 0) > bound.max || sizeOr(v, 0) < (bound.min ?? 0))) issues.add(['server', key], `a size ${bound.what}`);
  }
  if (s?.requestTimeout === undefined) return;
  const request = durationMs(s.requestTimeout);
  const headers = s.headersTimeout === undefined ? GATEWAY_DEFAULTS.server.headersTimeoutMs : durationMs(s.headersTimeout);
  if (request !== 0 && request < headers) issues.add(['server', 'requestTimeout'], `0 (none) or a duration >= headersTimeout (${headers} ms)`);
}

function resolvedWorkers(w: number | 'auto' | undefined): number {
  return w === 'auto' ? availableParallelism() : (w ?? GATEWAY_DEFAULTS.server.workers);
}

/**
 * A fixed concurrency limit is leased to the workers a few slots at a time, and a worker keeps
 * its last slot while it has had demand in the last ~100 ms (slot-lease.ts). With fewer slots
 * than workers, a request that reaches a worker without one waits until a slot moves from an
 * idle worker, or is refused without a queue: a limit of 1 on 2 workers refused ~30% of
 * sequential requests with nothing in flight when a worker never gave its last slot back
 * (hostile-3 H3), and a slot that moves only after 100 ms of idleness is still no limit to
 * serve with.
 */
function checkLeasedLimit(p: PolicyConfig, at: Path, workers: number, issues: Issues): void {
  if (workers <= 1) return;
  const limit = concurrencyForm(p.concurrency)?.limit;
  if (typeof limit !== 'number' || limit >= workers) return;
  const path = typeof p.concurrency === 'object' ? [...at, 'concurrency', 'limit'] : [...at, 'concurrency'];
  issues.add(path, `a fixed limit >= server.workers (${workers}): with fewer slots than workers, a request reaching a worker without one waits until a slot moves from an idle worker (100 ms and more) or, without a queue, is refused (lower server.workers, or raise the limit)`);
}

/** A request that costs more than a full bucket (of any rate limit, or any tenant's override) is refused for ever. */
function checkCost(cost: number, p: PolicyConfig, whose: string, at: Path, issues: Issues): void {
  let least: { what: string; capacity: number } | undefined;
  try {
    for (const l of rateCapacities(p)) if (least === undefined || l.capacity < least.capacity) least = l;
  } catch (err) {
    if (err instanceof InvalidOptionError) return; // a rate limit already reported as broken
    throw err;
  }
  if (least !== undefined && cost > least.capacity) {
    issues.add(at, `a cost <= ${least.capacity} (${least.what} of ${whose}; a request that costs more than a full bucket is refused for ever)`);
  }
}

function checkPolicy(p: PolicyConfig, at: Path, issues: Issues, stripHeaders: readonly string[] = []): void {
  for (const r of rolloutIssues(p)) issues.add([...at, r.key], r.expected, r.found);
  for (const r of identityHeaderIssues(p, stripHeaders)) issues.add([...at, ...r.key], r.expected, r.found);
  const limits = p.rateLimits ?? [];
  const names = new Set<string>();
  limits.forEach((r, i) => {
    const path = [...at, 'rateLimits', i];
    const window = r.limit !== undefined || r.window !== undefined;
    if (r.algorithm === 'sliding-window' || (r.algorithm === undefined && window)) {
      if (r.rate !== undefined) issues.add([...path, 'rate'], 'no rate with a sliding window (it counts limit per window)');
      if (r.burst !== undefined) issues.add([...path, 'burst'], 'no burst with a sliding window (it counts limit per window)');
      if (r.limit === undefined) issues.add(path, 'a limit with window', 'no limit');
      if (r.window === undefined) issues.add(path, 'a window with limit', 'no window');
    } else {
      if (window) issues.add([...path, r.limit !== undefined ? 'limit' : 'window'], `no limit or window with algorithm ${r.algorithm ?? 'gcra'} (it takes rate and burst)`);
      if (r.rate === undefined) issues.add(path, 'a rate (like 2000/s)', 'no rate');
    }
    if (limits.length > 1 && r.name === undefined) issues.add(path, 'a name (required when a policy has several rate limits)', 'no name');
    if (r.name !== undefined) {
      if (names.has(r.name)) issues.add([...path, 'name'], 'a name not used by another rate limit of this policy');
      names.add(r.name);
    }
    for (const [key, o] of Object.entries(r.overrides ?? {})) {
      const op = [...path, 'overrides', key];
      const ow = 'limit' in o || 'window' in o;
      if (ow && 'rate' in o) issues.add(op, 'either rate (and burst) or limit and window', 'both');
      else if (ow && !('limit' in o && 'window' in o)) issues.add(op, 'both limit and window', 'one of them');
      else if (!ow && !('rate' in o)) issues.add(op, 'a rate, or a limit and window', 'neither');
    }
  });
  if (p.shed !== undefined) {
    const slow = p.shed.slowAt === undefined ? GATEWAY_DEFAULTS.shed.slowAtMs : durationMs(p.shed.slowAt);
    const reject = p.shed.rejectAt === undefined ? GATEWAY_DEFAULTS.shed.rejectAtMs : durationMs(p.shed.rejectAt);
    if (slow >= reject) issues.add([...at, 'shed', p.shed.rejectAt !== undefined ? 'rejectAt' : 'slowAt'], `slowAt (${slow} ms) < rejectAt (${reject} ms)`, 'otherwise');
  }
  if (p.breaker !== undefined && p.breaker.failureRatio === undefined) {
    for (const k of ['window', 'minimumCalls'] as const) if (p.breaker[k] !== undefined) issues.add([...at, 'breaker', k], `no ${k} without failureRatio`);
  }
  const c = concurrencyForm(p.concurrency);
  if (c === undefined) return;
  const cp = typeof p.concurrency === 'object' ? [...at, 'concurrency'] : [...at];
  if (c.limit !== 'adaptive') {
    for (const k of ['algorithm', 'initialLimit', 'minLimit', 'maxLimit'] as const) {
      if (c[k] !== undefined) issues.add([...cp, k], `no ${k} with a fixed limit (only with limit: adaptive)`);
    }
  } else {
    const min = c.minLimit ?? 1;
    if (c.maxLimit !== undefined && c.maxLimit < min) issues.add([...cp, 'maxLimit'], `an integer >= minLimit (${min})`);
    if (c.initialLimit !== undefined && (c.initialLimit < min || (c.maxLimit !== undefined && c.initialLimit > c.maxLimit))) {
      issues.add([...cp, 'initialLimit'], `an integer in [minLimit, maxLimit] ([${min}, ${c.maxLimit ?? 'the algorithm maximum'}])`);
    }
  }
  if (c.queueTimeout !== undefined && (c.queue ?? 0) === 0) issues.add([...cp, 'queueTimeout'], 'no queueTimeout without a queue (set queue >= 1)');
  if (c.discipline !== undefined && (c.queue ?? 0) === 0) issues.add([...cp, 'discipline'], 'no discipline without a queue (set queue >= 1)');
}
