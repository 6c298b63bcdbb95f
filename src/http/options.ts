/**
 * Options of an HTTP admission policy: readonly, ranges and defaults in the JSDoc, every
 * default in {@link HTTP_DEFAULTS}, validated once by {@link resolveHttpOptions}.
 */
import type { Clock } from '../core/clock.js';
import { InvalidOptionError } from '../core/errors.js';
import { optBoolean, optFunction, optInt, optNumber, optOneOf } from '../core/options.js';
import { argOptions, optionKeys, optKnownKeys } from '../core/option-keys.js';
import type { Gate, Outcome } from '../core/types.js';
import type { ConcurrencyGate, SlotReclaimer } from '../concurrency/concurrency-gate.js';
import type { DisciplineOption } from '../discipline/create.js';
import type { LimitAlgorithm } from '../limit/algorithm.js';
import type { CriticalityClass } from '../pressure/criticality.js';
import type { LoadShedder, LoadShedderOptions } from '../pressure/load-shedder.js';
import type { KeyedRateLimiter, PolicyOverrides } from '../rate/keyed.js';
import type { RatePolicyInput } from '../rate/policy.js';
import type { RateStore } from '../rate/store.js';
import type { ClientIpConfig, HttpRequestLike } from './client-ip.js';
import type { CriticalityConfig, CriticalityOption } from './criticality.js';
import { criticalityConfig } from './criticality.js';
import type { ProxyHeader } from './forwarded.js';
import { PROXY_HEADERS } from './forwarded.js';
import type { HeaderStyle } from './ratelimit-headers.js';
import { HEADER_STYLES } from './ratelimit-headers.js';
import type { TenantOption } from './tenant.js';
import type { TrustProxyOption } from './trusted-proxies.js';
import { trustCheck } from './trusted-proxies.js';
import { deepFreeze } from '../core/deep-freeze.js';

/** A rate limit of the policy: a rate policy (any algorithm) metered per tenant, plus how it is kept. */
export type RateLimitOption = RatePolicyInput & {
  /** Per-tenant policies (keys as the tenant resolver writes them: `ip:...`, `key:...`, `user:...`). @default none */
  readonly overrides?: PolicyOverrides;
  /** Refusals by this limit are `quota` (a daily allowance, say) rather than `rate_limited`. Both are 429. @default false */
  readonly quota?: boolean;
  /** Where per-tenant state lives. @default a MemoryStore of `maxKeys` keys */
  readonly store?: RateStore;
  /** Most tenants held by the default memory store; when all are live, a new tenant takes the least-used one's place and usage (refused `keys_full`, 503, when that usage is spent). Integer >= 2. @default 100000 */
  readonly maxKeys?: number;
};

/** A concurrency limit: fixed (`limit`) or adaptive (`algorithm`), with a bounded wait queue. */
export interface ConcurrencyOption {
  /** Requests in flight. Integer >= 1. Give this or `algorithm`. */
  readonly limit?: number;
  /** An adaptive limit (sluice/limit); its own `limit` is the initial one. */
  readonly algorithm?: LimitAlgorithm;
  /** Requests that may wait for a slot; 0 refuses at once when full. Integer >= 0. @default 0 */
  readonly maxQueue?: number;
  /** Longest a request waits in the queue, ms. > 0; only with maxQueue >= 1. @default 5000 */
  readonly maxWaitMs?: number;
  /** Order the queue is served in. @default 'fifo' */
  readonly discipline?: DisciplineOption;
  /** Refuse at once a request expected to wait past 80% of its budget (ConcurrencyGate's `refuseEarly`); only with maxQueue >= 1. @default true */
  readonly refuseEarly?: boolean;
  /** Asked to give up slots before a request the full limit keeps out is queued or refused (ConcurrencyGate's `reclaimer`). @default none */
  readonly reclaimer?: SlotReclaimer;
}

/** Per-route settings, from a route option (Fastify `config.sluice`, an Express middleware per route). */
export interface RouteAdmission {
  /** Rate-limit units this route's requests cost. Finite, >= 1. @default the policy's `cost` */
  readonly cost?: number;
  /** The route's criticality class; a client header may lower it (see `criticality`). @default the policy's default class */
  readonly criticality?: CriticalityClass;
  /** Skip admission entirely (health checks, metrics). @default false */
  readonly exempt?: boolean;
  /** Longest this route's requests wait for admission, ms. >= 0. @default the policy's `maxWaitMs` */
  readonly maxWaitMs?: number;
}

export interface HttpAdmissionOptions<R extends HttpRequestLike> {
  /** Name in stats, events and errors. @default 'http' */
  readonly name?: string;
  /** Clock of the gates this policy builds. @default systemClock */
  readonly clock?: Clock;
  /** Rate limits, all applied (a burst limit and a daily quota, say), or ready KeyedRateLimiters. Policy names unique. @default none */
  readonly rateLimits?: readonly (RateLimitOption | KeyedRateLimiter)[];
  /** A concurrency limit: a number (fixed, no queue), options, or a ready gate. @default none */
  readonly concurrency?: number | ConcurrencyOption | ConcurrencyGate;
  /** Pressure-based shedding by criticality: a LoadShedder or its options. @default none */
  readonly shed?: LoadShedder | LoadShedderOptions;
  /** Further gates asked after the rate limits and before the concurrency limit (a circuit breaker). @default none */
  readonly gates?: readonly Gate[];
  /** Who the tenant is. @default 'ip' */
  readonly tenant?: TenantOption<R>;
  /** Peers whose proxy header is believed. Without it the socket address is the client. @default none */
  readonly trustProxy?: TrustProxyOption;
  /** The header trusted proxies write. Only this one is read: a proxy that passes the other through untouched cannot be spoofed. @default 'x-forwarded-for' */
  readonly proxyHeader?: ProxyHeader;
  /** Most proxy-header entries walked. Integer in [1, 64]. @default 16 */
  readonly maxProxyHops?: number;
  /** IPv4 clients share a limit per this prefix. Integer in [0, 32]. @default 32 */
  readonly ipv4Prefix?: number;
  /** IPv6 clients share a limit per this prefix (one host usually owns a /64). Integer in [0, 128]. @default 64 */
  readonly ipv6Prefix?: number;
  /** Where a request's criticality class comes from. @default the route's class, else 'critical' */
  readonly criticality?: CriticalityOption<R>;
  /** Rate-limit units a request costs, or a function of it (a value that is not a finite number >= 1 counts as 1). @default 1 */
  readonly cost?: number | ((req: R) => number);
  /** Requests not admitted at all: exact paths (without query), or a predicate. @default none */
  readonly exempt?: readonly string[] | ((req: R, path: string) => boolean);
  /** Longest a request waits for admission across all gates, ms. >= 0, Infinity allowed. @default Infinity (the gates' own limits) */
  readonly maxWaitMs?: number;
  /** The request's own time budget in ms (from a header, say); it can only shorten the wait. @default none */
  readonly budgetMs?: (req: R) => number | undefined;
  /** RateLimit header syntax: the current draft, `legacy` RateLimit-Limit/-Remaining/-Reset, `x` X-RateLimit-*, or none. @default 'draft' */
  readonly headers?: HeaderStyle;
  /** Outcome of a finished response, from its status. @default status >= 500: 'failure', else 'success' */
  readonly classify?: (status: number) => Outcome;
}

export const HTTP_DEFAULTS = deepFreeze({
  name: 'http',
  proxyHeader: 'x-forwarded-for',
  maxProxyHops: 16,
  ipv4Prefix: 32,
  ipv6Prefix: 64,
  criticality: 'critical',
  cost: 1,
  maxWaitMs: Infinity,
  headers: 'draft',
  concurrency: { maxQueue: 0, maxWaitMs: 5_000 },
} as const satisfies Record<string, unknown>);

export interface ResolvedHttpOptions<R> {
  readonly name: string;
  readonly ip: ClientIpConfig;
  readonly criticality: CriticalityConfig<R>;
  readonly cost: number | ((req: R) => number);
  readonly exemptPaths: ReadonlySet<string> | undefined;
  readonly exemptFn: ((req: R, path: string) => boolean) | undefined;
  readonly maxWaitMs: number;
  readonly budgetMs: ((req: R) => number | undefined) | undefined;
  readonly headers: HeaderStyle;
  readonly classify: (status: number) => Outcome;
}

export function defaultClassify(status: number): Outcome {
  return status >= 500 ? 'failure' : 'success';
}

/** Every HttpAdmission option name, for the unknown-key check (the type checker keeps it complete). */
const HTTP_KEYS = optionKeys<HttpAdmissionOptions<never>>({
  name: true,
  clock: true,
  maxWaitMs: true,
  classify: true,
  concurrency: true,
  rateLimits: true,
  shed: true,
  gates: true,
  tenant: true,
  trustProxy: true,
  proxyHeader: true,
  maxProxyHops: true,
  ipv4Prefix: true,
  ipv6Prefix: true,
  criticality: true,
  cost: true,
  exempt: true,
  budgetMs: true,
  headers: true,
});

/** Validate everything but the gates (see route-gates.ts). */
export function resolveHttpOptions<R extends HttpRequestLike>(o: HttpAdmissionOptions<R>): ResolvedHttpOptions<R> {
  argOptions('HttpAdmission', o, false);
  optKnownKeys('HttpAdmission', o, HTTP_KEYS);
  const name = o.name ?? HTTP_DEFAULTS.name;
  if (typeof name !== 'string' || name === '') throw new InvalidOptionError('name', 'a non-empty string', name);
  const proxyHeader = optOneOf('proxyHeader', o.proxyHeader ?? HTTP_DEFAULTS.proxyHeader, PROXY_HEADERS);
  if (o.proxyHeader !== undefined && o.trustProxy === undefined) {
    throw new InvalidOptionError('proxyHeader', 'absent without trustProxy (no proxy header is read unless proxies are trusted)', o.proxyHeader);
  }
  const ip: ClientIpConfig = {
    trusted: o.trustProxy === undefined ? undefined : trustCheck(o.trustProxy),
    header: proxyHeader,
    maxHops: optInt('maxProxyHops', o.maxProxyHops ?? HTTP_DEFAULTS.maxProxyHops, 1, 64),
    ipv4Prefix: optInt('ipv4Prefix', o.ipv4Prefix ?? HTTP_DEFAULTS.ipv4Prefix, 0, 32),
    ipv6Prefix: optInt('ipv6Prefix', o.ipv6Prefix ?? HTTP_DEFAULTS.ipv6Prefix, 0, 128),
  };
  const cost = typeof o.cost === 'function' ? o.cost : optNumber('cost', o.cost ?? HTTP_DEFAULTS.cost, 1, Number.MAX_VALUE);
  let exemptPaths: Set<string> | undefined;
  let exemptFn: ((req: R, path: string) => boolean) | undefined;
  if (typeof o.exempt === 'function') exemptFn = o.exempt;
  else if (o.exempt !== undefined) {
    if (!Array.isArray(o.exempt) || o.exempt.some((p) => typeof p !== 'string' || !p.startsWith('/'))) {
      throw new InvalidOptionError('exempt', "an array of paths starting with '/', or a function", o.exempt);
    }
    if (o.exempt.length > 0) exemptPaths = new Set(o.exempt);
  }
  optFunction('budgetMs', o.budgetMs);
  optFunction('classify', o.classify);
  if (o.tenant !== undefined && o.tenant !== 'ip' && typeof o.tenant !== 'function' && (typeof o.tenant !== 'object' || o.tenant === null)) {
    throw new InvalidOptionError('tenant', "'ip', { header: string } or a function", o.tenant);
  }
  return {
    name,
    ip,
    criticality: criticalityConfig(o.criticality, HTTP_DEFAULTS.criticality),
    cost,
    exemptPaths,
    exemptFn,
    maxWaitMs: optNumber('maxWaitMs', o.maxWaitMs ?? HTTP_DEFAULTS.maxWaitMs, 0),
    budgetMs: o.budgetMs,
    headers: optOneOf('headers', o.headers ?? HTTP_DEFAULTS.headers, HEADER_STYLES),
    classify: o.classify ?? defaultClassify,
  };
}

/** Validate a route's settings once (adapters call this when a route is registered). */
const ROUTE_KEYS = optionKeys<RouteAdmission>({ cost: true, criticality: true, exempt: true, maxWaitMs: true });

export function resolveRoute(route: RouteAdmission | undefined, at = 'route'): RouteAdmission | undefined {
  if (route === undefined) return undefined;
  if (typeof route !== 'object' || route === null) throw new InvalidOptionError(at, 'an object', route);
  optKnownKeys('route', route, ROUTE_KEYS, `${at}.`);
  if (route.cost !== undefined) optNumber(`${at}.cost`, route.cost, 1, Number.MAX_VALUE);
  if (route.maxWaitMs !== undefined) optNumber(`${at}.maxWaitMs`, route.maxWaitMs, 0);
  optBoolean(`${at}.exempt`, route.exempt, false);
  if (route.criticality !== undefined) criticalityConfig({ default: route.criticality }, 'critical');
  return route;
}
