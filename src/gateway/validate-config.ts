/**
 * Checking a config once: the JSON Schema (ajv) for shapes and ranges, then the rules a
 * schema cannot state — references between sections, contradictions between keys — and
 * finally the HTTP admission layer's own validation of each policy. Every problem is
 * collected (not just the first) and reported with its file, line and key path.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { InvalidOptionError } from '../core/errors.js';
import { HttpAdmission } from '../http/admission.js';
import { trustCheck } from '../http/trusted-proxies.js';
import { canonicalHash } from './canonical.js';
import { caseFolded } from './canonical-case.js';
import { canonicalTarget } from './canonical-path.js';
import { GatewayConfigError } from './config-error.js';
import type { GatewayConfig, PolicyConfig, RouteConfig } from './config-types.js';
import { GATEWAY_DEFAULTS } from './defaults.js';
import { isListenHost, LISTEN_HOST_EXPECTED } from './listen-host.js';
import { compileSchema } from './duration-schema.js';
import { claimGateNames, policyParts } from './policy-options.js';
import type { ResolvedConfig, ResolvedPolicy, ResolvedRoute, ResolvedUpstream } from './resolved-config.js';
import { CONFIG_SCHEMA } from './schema.js';
import { takesEvery } from './route-reach.js';
import { redisUrlProblem } from './store-config.js';
import { redactUrl } from '../core/redact-url.js';
import { schemaIssues } from './schema-errors.js';
import { durationMs } from './units.js';
import type { ConfigSource } from './yaml-source.js';
import { Issues } from './config-issues.js';
import type { Path } from './config-issues.js';
import { checkCost, checkLeasedLimit, checkPolicy, checkQueueRoom } from './validate-policy.js';
import { checkAdminPort, checkOwnUpstream, checkMemory, checkServer, checkWholeMs, resolved, resolvedWorkers, sizeOr } from './validate-server.js';

let compiled: ValidateFunction | undefined;

function schemaValidator(): ValidateFunction {
  compiled ??= compileSchema(CONFIG_SCHEMA);
  return compiled;
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
const TRUSTED_EXPECTED = 'an IP address, a CIDR block (address/prefix: 0 to 32 bits for IPv4, 0 to 128 for IPv6) or one of loopback, linklocal, uniquelocal';

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
  if (sound(['listen']) && sound(['admin']) && c.admin?.enabled !== false) checkAdminPort(c, issues);
  // Each item on its own: every bad one is named with its index (the first alone was, before).
  if (c.trustProxy !== undefined && sound(['trustProxy'])) {
    c.trustProxy.forEach((item, i) => {
      try {
        trustCheck([item]);
      } catch (err) {
        if (!(err instanceof InvalidOptionError)) throw err;
        issues.add(['trustProxy', i], TRUSTED_EXPECTED);
      }
    });
  }
  if (c.proxyHeader !== undefined && c.trustProxy === undefined) issues.add(['proxyHeader'], 'no proxyHeader without trustProxy (no proxy header is read unless proxies are trusted)');
  const storeUrl = c.store === undefined ? undefined : redisUrlProblem(c.store.url, c.store.cluster === true);
  // The URL as found, without its password.
  if (storeUrl !== undefined) issues.add(['store', 'url'], storeUrl, JSON.stringify(redactUrl(c.store!.url)));

  const upstreams = new Map<string, ResolvedUpstream>();
  for (const [name, u] of Object.entries(c.upstreams)) {
    if (!sound(['upstreams', name])) continue;
    const url = parseUrl(u.url);
    if (url === undefined) {
      issues.add(['upstreams', name, 'url'], 'http://host:port[/base]');
      continue;
    }
    // Port 0 is no port to connect to: it was taken, and every request to it was a 502.
    if (url.port === '0') {
      issues.add(['upstreams', name, 'url'], 'http://host:port[/base] with a port from 1 to 65535 (port 0 is none to connect to)');
      continue;
    }
    const port = url.port === '' ? 80 : Number(url.port);
    const timeoutMs = u.timeout === undefined ? GATEWAY_DEFAULTS.upstream.timeoutMs : durationMs(u.timeout);
    const idleTimeoutMs = u.idleTimeout === undefined ? GATEWAY_DEFAULTS.upstream.idleTimeoutMs : durationMs(u.idleTimeout);
    checkWholeMs(issues, ['upstreams', name, 'timeout'], u.timeout);
    checkWholeMs(issues, ['upstreams', name, 'idleTimeout'], u.idleTimeout);
    const maxSockets = u.maxSockets ?? GATEWAY_DEFAULTS.upstream.maxSockets;
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (sound(['listen']) && sound(['admin'])) checkOwnUpstream(c, name, { hostname, port }, issues);
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
    if (sound(['server'])) checkQueueRoom(p, path, c.server?.maxQueued ?? GATEWAY_DEFAULTS.server.maxQueued, issues);
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
    const written = r.path ?? '/';
    // One trailing slash is the prefix itself (`/api/` is `/api`); more were cut too, so `//` and
    // `/api//` were taken for `/` and `/api` without a word (gateway-edges): they are not canonical.
    const path = written.length > 1 && written.endsWith('/') ? written.slice(0, -1) : written;
    // Requests are routed on their canonical path (canonical-path.ts): a route written another way could never match.
    const canonical = written.includes('?') ? undefined : canonicalTarget(written);
    // A glob (`/api/*`, `/**`) is a prefix with a literal "*" segment: it took only /api/* itself,
    // and /api/users went to a later route or 404 (hostile-ops). A route path is a prefix already.
    if (/\*(\/|$)/.test(path)) {
      const prefix = /^(.*?)\/\*+$/.exec(path)?.[1];
      issues.add(['routes', i, 'path'], `a path prefix without wildcards (a route takes its path and everything under it${prefix === undefined ? '' : `: ${JSON.stringify(prefix || '/')} takes what this meant`})`);
    } else if (canonical?.ok !== true || canonical.path !== written) {
      issues.add(['routes', i, 'path'], canonical?.ok === true ? `a canonical path (requests are routed on theirs): here ${JSON.stringify(canonical.path.replace(/(.)\/$/, '$1'))}` : 'a canonical path (no query, "..", backslash, encoded slash or control character)');
    }
    let upstream: ResolvedUpstream | undefined;
    if (r.upstream === undefined) {
      if (Object.keys(c.upstreams).length > 1) issues.add(['routes', i], `an upstream (one of ${Object.keys(c.upstreams).join(', ')}) when there are several`, 'no upstream');
      upstream = onlyUpstream;
    } else {
      upstream = upstreams.get(r.upstream);
      // Own keys only: `in` also finds what every object inherits (constructor, toString, valueOf), and a
      // route naming one was dropped without a word (an upstream) or served without any policy (hostile-10).
      if (upstream === undefined && !Object.hasOwn(c.upstreams, r.upstream)) issues.add(['routes', i, 'upstream'], `one of the upstreams ${Object.keys(c.upstreams).join(', ')}`);
    }
    let policy: ResolvedPolicy | undefined;
    if (typeof r.policy === 'string') {
      policy = policies.get(r.policy);
      if (policy === undefined && !Object.hasOwn(c.policies ?? {}, r.policy)) {
        const known = Object.keys(c.policies ?? {});
        issues.add(['routes', i, 'policy'], known.length === 0 ? 'an inline policy (no policies are defined)' : `one of the policies ${known.join(', ')}`);
      }
    } else if (r.policy !== undefined) {
      policy = resolvePolicy(r.policy, `routes[${i}].policy`, ['routes', i, 'policy']);
    }
    if (r.exempt === true && (r.cost !== undefined || r.criticality !== undefined || r.maxWait !== undefined)) {
      issues.add(['routes', i, 'exempt'], 'no cost, criticality or maxWait on an exempt route (it is not admitted at all)');
    }
    // The gateway forwards an exempt route without asking its policy: `exempt: true, policy: strict`
    // limited nothing while /status and the dashboard listed the policy, and `sluice simulate
    // --policy file#route` ran it (hostile-ops).
    if (r.exempt === true && r.policy !== undefined) {
      issues.add(['routes', i, 'policy'], 'no policy on an exempt route (it is forwarded without admission: the policy would never be asked)');
    }
    if (policy === undefined && r.policy === undefined && (r.cost !== undefined || r.criticality !== undefined || r.maxWait !== undefined)) {
      issues.add(['routes', i], 'a policy for cost, criticality or maxWait to act on', 'none');
    }
    const policyConfig = typeof r.policy === 'string' ? (sound(['policies', r.policy]) && Object.hasOwn(c.policies ?? {}, r.policy) ? c.policies?.[r.policy] : undefined) : r.policy;
    if (policyConfig !== undefined && r.cost !== undefined) checkCost(r.cost, policyConfig, typeof r.policy === 'string' ? `policy ${r.policy}` : "the route's policy", ['routes', i, 'cost'], issues);
    if (upstream === undefined) return;
    const route: ResolvedRoute = {
      name,
      path,
      lowerPath: r.caseInsensitive === true ? caseFolded(path) : undefined,
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
    };
    const earlier = routes.find((e) => takesEvery(e, route));
    if (earlier !== undefined) {
      const what = `route "${earlier.name}" (path ${JSON.stringify(earlier.path)}${earlier.methods === undefined ? '' : `, methods ${[...earlier.methods].join(', ')}`}${earlier.lowerPath === undefined ? '' : ', caseInsensitive'})`;
      issues.add(['routes', i, 'path'], `a route some request reaches: ${what} comes first and takes every request this one would (the first match wins; put the narrower route first)`);
    }
    routes.push(route);
  });
  if (sound(['server'])) checkMemory(c, routes, serverMaxBody, issues);
  if (fromSchema.length > 0 || issues.list.length > 0) fail();
  return resolved(c, upstreams, policies, routes);
}

function parseUrl(s: string): URL | undefined {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' && u.hostname !== '' && u.search === '' && u.hash === '' && u.username === '' ? u : undefined;
  } catch {
    return undefined;
  }
}
