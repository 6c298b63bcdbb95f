/**
 * The routes in force: built whole from a resolved config, then swapped in by one assignment
 * (a request sees the old table or the new one, never a mix). Policies and upstream connection pools
 * are taken over from the previous table when their canonical key is unchanged.
 */
import type { Clock } from '../core/clock.js';
import type { SlotReclaimer } from '../concurrency/slot-reclaimer.js';
import type { RouteAdmission } from '../http/options.js';
import { trustCheck } from '../http/trusted-proxies.js';
import type { TrustCheck } from '../http/trusted-proxies.js';
import { RouteFault } from './fault-injection.js';
import { strippedSet } from './forward-headers.js';
import { PolicyInstance } from './policy-instance.js';
import { UpstreamPool } from './upstream-pool.js';
import { ALLOWED_METHODS } from './responses.js';
import { caseFolded } from './canonical-case.js';
import { underPrefix } from './route-reach.js';
import type { RateStore } from '../rate/store.js';
import type { ResolvedConfig, ResolvedRoute, ResolvedUpstream } from './resolved-config.js';
import type { WorkerShare } from './worker-share.js';

export interface LiveUpstream {
  readonly config: ResolvedUpstream;
  /** Keep-alive connections to the upstream, at most `maxSockets`. */
  readonly pool: UpstreamPool;
  /**
   * HEAD requests' own keep-alive connections, at most headSockets(maxSockets): a body an
   * upstream wrongly sends after a HEAD's head, late, is read as the next response on its
   * connection — on a shared one another client's GET got it, and each later response there
   * the one before (hostile-10). Here only a HEAD can, which relays no body; and a HEAD flood
   * neither takes the other requests' connections nor opens one per HEAD (undici's default).
   */
  readonly headPool: UpstreamPool;
}

/** The HEAD pool's connections for an upstream of `maxSockets`: an eighth of them, at least 1. */
export function headSockets(maxSockets: number): number {
  return Math.max(1, Math.ceil(maxSockets / 8));
}

function poolFor(u: ResolvedUpstream, connections: number): UpstreamPool {
  // headersTimeout: no response headers this long after the request went out is a 504;
  // bodyTimeout: a response body silent this long is cut. One request per connection at a time.
  return new UpstreamPool(u.origin, { connections, headersTimeout: u.timeoutMs, bodyTimeout: u.idleTimeoutMs });
}

export interface LiveRoute {
  readonly config: ResolvedRoute;
  readonly upstream: LiveUpstream;
  readonly policy: PolicyInstance | undefined;
  /** The route's settings as sluice/http takes them. */
  readonly admission: RouteAdmission | undefined;
  /** Injected faults (route `fault`); undefined: none. */
  readonly fault: RouteFault | undefined;
}

/** `path` is `prefix` or below it on a segment boundary (`/api`: `/api`, `/api/x`, not `/apix`). */
export class RouteTable {
  readonly config: ResolvedConfig;
  readonly routes: readonly LiveRoute[];
  readonly policies: ReadonlyMap<string, PolicyInstance>;
  readonly upstreams: ReadonlyMap<string, LiveUpstream>;
  readonly trusted: TrustCheck | undefined;
  /** Request headers dropped unless the peer is trusted: the defaults and `server.stripHeaders`. */
  readonly stripped: ReadonlySet<string>;

  /** `reclaimer`: what the policies' concurrency gates ask for room when full (the gateway's slow readers). */
  constructor(config: ResolvedConfig, previous: RouteTable | undefined, clock: Clock | undefined, share?: WorkerShare, reclaimer?: SlotReclaimer) {
    this.config = config;
    this.trusted = config.trustProxy === undefined ? undefined : trustCheck(config.trustProxy);
    this.stripped = strippedSet(config.server.stripHeaders);
    const upstreams = new Map<string, LiveUpstream>();
    const byKey = new Map<string, LiveUpstream>();
    for (const u of previous?.upstreams.values() ?? []) byKey.set(u.config.key, u);
    for (const [name, u] of config.upstreams) {
      const kept = byKey.get(u.key);
      upstreams.set(name, { config: u, pool: kept?.pool ?? poolFor(u, u.maxSockets), headPool: kept?.headPool ?? poolFor(u, headSockets(u.maxSockets)) });
    }
    const policies = new Map<string, PolicyInstance>();
    const oldPolicies = previous?.policies ?? new Map<string, PolicyInstance>();
    const oldStores = new Map<string, RateStore>();
    for (const p of oldPolicies.values()) for (const [identity, store] of p.rateStores.entries()) oldStores.set(identity, store);
    const reuse = (identity: string): RateStore | undefined => oldStores.get(identity);
    const routes: LiveRoute[] = [];
    for (const r of config.routes) {
      let policy: PolicyInstance | undefined;
      if (r.policy !== undefined) {
        policy = policies.get(r.policy.key) ?? oldPolicies.get(r.policy.key) ?? new PolicyInstance(r.policy, config, clock, share, reuse, reclaimer);
        policies.set(r.policy.key, policy);
      }
      // An exempt route is never admitted (request-handler.ts forwards it straight): no settings.
      const admission: RouteAdmission | undefined =
        r.cost === undefined && r.criticality === undefined && r.maxWaitMs === undefined
          ? undefined
          : {
              ...(r.cost !== undefined ? { cost: r.cost } : {}),
              ...(r.criticality !== undefined ? { criticality: r.criticality } : {}),
              ...(r.maxWaitMs !== undefined ? { maxWaitMs: r.maxWaitMs } : {}),
            };
      routes.push({ config: r, upstream: upstreams.get(r.upstream.name)!, policy, admission, fault: r.fault === undefined ? undefined : new RouteFault(r.fault) });
    }
    this.routes = routes;
    this.policies = policies;
    this.upstreams = upstreams;
  }

  /**
   * The first route matching the method and path (a prefix on segment boundaries; regardless
   * of case for a `caseInsensitive` route, letters beyond ASCII that fold to ASCII ones included:
   * canonical-case.ts).
   * A route for GET takes HEAD too: upstreams serve a HEAD with their GET handler (RFC 9110
   * section 9.3.2; Express, Django, Rails, Spring do), and `HEAD /search` went past a `methods:
   * [GET]` route to the next one — a catch-all with a looser policy, or exempt — for the same
   * work upstream (hostile-11).
   */
  match(method: string, path: string): LiveRoute | undefined {
    let lower: string | undefined;
    for (const r of this.routes) {
      const c = r.config;
      if (c.methods !== undefined && !c.methods.has(method) && !(method === 'HEAD' && c.methods.has('GET'))) continue;
      if (c.lowerPath === undefined ? underPrefix(path, c.path) : underPrefix((lower ??= caseFolded(path)), c.lowerPath)) return r;
    }
    return undefined;
  }

  /**
   * The methods the routes for `path` take, in ALLOWED_METHODS's order and then any others by
   * name (GET brings HEAD), when
   * some route takes the path and none takes every method; undefined otherwise. A request whose
   * path has routes, but none for its method, is 405 with these as Allow (RFC 9110 section
   * 15.5.6): it was 404 no_route, which said the path was unknown (hostile-19).
   */
  methodsFor(path: string): string[] | undefined {
    const taken = new Set<string>();
    let lower: string | undefined;
    for (const r of this.routes) {
      const c = r.config;
      if (!(c.lowerPath === undefined ? underPrefix(path, c.path) : underPrefix((lower ??= caseFolded(path)), c.lowerPath))) continue;
      if (c.methods === undefined) return undefined;
      for (const m of c.methods) taken.add(m);
      if (c.methods.has('GET')) taken.add('HEAD');
    }
    if (taken.size === 0) return undefined;
    // The common methods in their usual order, then any other a route names (PURGE, PROPFIND...), by name.
    const common = ALLOWED_METHODS.split(', ');
    return [...common.filter((m) => taken.has(m)), ...[...taken].filter((m) => !common.includes(m)).sort()];
  }

  /** What the previous table had that this one does not use (to retire after a swap). */
  retiredFrom(previous: RouteTable): { policies: PolicyInstance[]; pools: UpstreamPool[] } {
    const policies = [...previous.policies.values()].filter((p) => !this.policies.has(p.key));
    const mine = new Set([...this.upstreams.values()].flatMap((u) => [u.pool, u.headPool]));
    const pools = [...previous.upstreams.values()].flatMap((u) => [u.pool, u.headPool]).filter((a) => !mine.has(a));
    return { policies, pools };
  }
}
