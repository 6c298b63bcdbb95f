/**
 * The HTTP admission policy every adapter translates: who the tenant is, how critical the
 * request is, what it costs, then the gates (route-gates.ts), walked by the chain walker
 * every composition shares (core/gate-chain.ts: one wait budget for the whole chain); the
 * answer becomes headers and, for a refusal, a status and a problem+json body. One
 * instance is one route group: routes given the same instance share its limits.
 *
 * One owner per permit (http-permit.ts). `handle` is for adapters that run the handler
 * in-process (node:http, Express, Fastify): the permit of an admitted request is released
 * when its response closes — with the outcome of `classify(status)` when the response was
 * finished, 'dropped' when the client went away first (adaptive limits and breakers then
 * see a drop, not a success). `decide` is for a caller that knows better when the work
 * ends (a proxy, when the upstream's response is complete): the caller owns the permit and
 * ends it once with `finish(status)` or `release(outcome)`; the response's close does not
 * touch it. Either way a request still waiting when its client goes away is taken out of
 * the queue at once (its AbortSignal fires on the response's 'close').
 *
 * Early refusal is the concurrency gate's (`refuseEarly`, on for a queue this policy
 * builds): it is asked before the rate limits, so a request refused for the server's sake
 * costs the tenant no quota.
 */
import { AbortedError } from '../core/errors.js';
import { WaitSignal } from '../core/wait-signal.js';
import type { AdmissionContext, Gate, Outcome, PolicyFacts, Rejection } from '../core/types.js';
import type { Clock } from '../core/clock.js';
import { isPending, walkChain } from '../core/gate-chain.js';
import type { ChainResult, ChainThen } from '../core/gate-chain.js';
import type { ConcurrencyGate } from '../concurrency/concurrency-gate.js';
import type { LoadShedder } from '../pressure/load-shedder.js';
import { CLASS_PRIORITY } from '../pressure/criticality.js';
import type { HttpRequestLike } from './client-ip.js';
import { requestClass } from './criticality.js';
import { ABANDONED, EXEMPT } from './decision.js';
import type { HttpDecision, HttpResponseLike, LaterAsk, Refused } from './decision.js';
import type { Problem } from './problem.js';
import type { HttpAdmissionOptions, ResolvedHttpOptions, RouteAdmission } from './options.js';
import { resolveHttpOptions } from './options.js';
import { HttpPermit } from './http-permit.js';
import { PROBLEM_CONTENT_TYPE, problem, statusOf } from './problem.js';
import { deltaSeconds, rateLimitHeaders, retryAfterSeconds } from './ratelimit-headers.js';
import type { HeaderPair } from './ratelimit-headers.js';
import type { PolicyGates } from './route-gates.js';
import { buildGates } from './route-gates.js';
import { tenantResolver } from './tenant.js';
import type { TenantResolver } from './tenant.js';

/** HttpAdmission's settle, for ResponseWatch only (the symbol is not exported). */
const kSettle = Symbol('sluice.http.settle');

/** Rendered capacity refusals kept per policy: (reason, Retry-After seconds) pairs. */
const REFUSAL_CACHE_SIZE = 64;
/** The abort reason of a wait whose client went away (shared: no DOMException per abort). */
const CLIENT_GONE = Object.freeze(new Error('the client closed the connection while its request waited for admission'));

export class HttpAdmission<R extends HttpRequestLike = HttpRequestLike> {
  readonly name: string;
  readonly clock: Clock;
  readonly shedder: LoadShedder | undefined;
  /** The rate limiters, in the order asked (those whose refusals are `quota` included). */
  readonly rates: readonly Gate[];
  /** The further gates (a breaker), asked after the rate limits. */
  readonly extra: readonly Gate[];
  readonly concurrency: ConcurrencyGate | undefined;
  /** Every gate this policy asks, in order: shedder, rate limits, further gates, concurrency. */
  readonly gates: readonly Gate[];
  /** The gates asked before the work can start (decideBeforeWork): all but the concurrency gate. */
  readonly #beforeWork: readonly Gate[];
  readonly #o: ResolvedHttpOptions<R>;
  readonly #g: PolicyGates;
  readonly #tenant: TenantResolver<R>;
  /** Rendered capacity refusals by reason, then Retry-After seconds (no key string built per refusal); REFUSAL_CACHE_SIZE in all. */
  readonly #refusals = new Map<string, Map<number | undefined, RenderedRefusal>>();
  #refusalsCached = 0;

  constructor(options: HttpAdmissionOptions<R>) {
    this.#o = resolveHttpOptions(options);
    this.name = this.#o.name;
    this.#g = buildGates(options as HttpAdmissionOptions<never>, this.name);
    this.clock = this.#g.clock;
    this.shedder = this.#g.shedder;
    this.rates = this.#g.rates;
    this.extra = this.#g.extra;
    this.concurrency = this.#g.concurrency;
    this.gates = this.#g.chain;
    this.#beforeWork = this.concurrency === undefined ? this.gates : this.gates.slice(0, -1);
    this.#tenant = tenantResolver(options.tenant ?? 'ip', this.#o.ip);
  }

  /** The tenant key `req` is limited under (`ip:...`, `key:...`, `user:...`). */
  tenantOf(req: R): string {
    return this.#tenant(req);
  }

  /** Whether refusals by `gate` (one of `rates`) are reported as `quota`. */
  isQuota(gate: Gate): boolean {
    return this.#g.quota.has(gate);
  }

  /** Smoothed service time of the concurrency gate's permits, ms (0 without one, or before the first release). */
  get serviceMs(): number {
    return this.concurrency?.serviceMs ?? 0;
  }

  /**
   * Decide for one request; the permit of an admitted request is released when `res`
   * closes (the in-process adapters). `path` is the request path without query (for
   * `exempt`); `route` the route's settings. Synchronous unless a gate makes it wait.
   */
  handle(req: R, res: HttpResponseLike, route?: RouteAdmission, path?: string): HttpDecision | Promise<HttpDecision> {
    return this.#decide(req, res, route, path, false);
  }

  /**
   * Decide for one request whose permit the caller owns: it ends the permit of an admitted
   * request once, with `permit.finish(status)` or `permit.release(outcome)`, when the work
   * ends. The response's close only takes a waiting request out of the queue.
   */
  decide(req: R, res: HttpResponseLike, route?: RouteAdmission, path?: string): HttpDecision | Promise<HttpDecision> {
    return this.#decide(req, res, route, path, true);
  }

  /**
   * `decide` for a request whose work cannot start yet (the gateway's: a body still arriving, or
   * one its client holds back for 100 Continue). No slot is held while it waits: the concurrency
   * gate is only asked whether it would refuse now what no wait could spare (a full queue, a
   * wait past the budget: ConcurrencyGate.earlyRefusal's `beforeWork`), which never cuts a slow
   * reader nor takes a place in its queue. Admitted, the decision names it in `later`: the
   * caller asks it, with `later.context`, once the work can start, and adds its permit.
   */
  decideBeforeWork(req: R, res: HttpResponseLike, route?: RouteAdmission, path?: string): HttpDecision | Promise<HttpDecision> {
    return this.#decide(req, res, route, path, true, true);
  }

  /**
   * The answer to a request admitted by `decideBeforeWork` whose `later` ask — once its work could
   * start — was refused by one of those gates (`rejection`: the capacity filled meanwhile, a
   * breaker opened): rendered as this policy renders a refusal of its own chain, with the status,
   * problem+json body, Retry-After and RateLimit headers (of `permit`, the decision's: as metered,
   * and once `permit.cancel()` gave its units back, counting them as not spent) that `decide`
   * gives a request refused by that gate after the rate limits admitted it.
   * Until expectlater a caller had to render it by hand (a bare 503).
   */
  laterRefusal(rejection: Rejection, permit: HttpPermit): Refused {
    const refusedFacts = rejection.facts;
    return this.#refused(rejection, refusedFacts === undefined ? permit.allFacts : [...permit.allFacts, refusedFacts], refusedFacts);
  }

  #decide(req: R, res: HttpResponseLike, route: RouteAdmission | undefined, path: string | undefined, callerOwns: boolean, beforeWork = false): HttpDecision | Promise<HttpDecision> {
    const o = this.#o;
    if (route?.exempt === true) return EXEMPT;
    if (path !== undefined && (o.exemptPaths?.has(path) === true || (o.exemptFn !== undefined && o.exemptFn(req, path)))) return EXEMPT;
    if (res.destroyed) return ABANDONED;
    let wait = route?.maxWaitMs ?? o.maxWaitMs;
    if (o.budgetMs !== undefined) {
      const b = o.budgetMs(req);
      if (typeof b === 'number' && b >= 0 && b < wait) wait = b;
    }
    const ctx: { -readonly [K in keyof AdmissionContext]: AdmissionContext[K] } = { cost: route?.cost ?? this.#costOf(req) };
    // The chain's one wait budget (core/gate-chain.ts), as an absolute deadline.
    if (wait !== Infinity) ctx.deadline = this.clock.now() + wait;
    const early = this.concurrency?.earlyRefusal(ctx, beforeWork);
    if (early !== undefined) return this.#refused(early, [], undefined);
    ctx.key = this.#tenant(req);
    ctx.priority = CLASS_PRIORITY[requestClass(req, o.criticality, route?.criticality)];
    const watch = new ResponseWatch(this, callerOwns, ctx.cost ?? 1);
    if (beforeWork && this.concurrency !== undefined) {
      const context = { key: ctx.key, priority: ctx.priority, cost: ctx.cost ?? 1, ...(wait !== Infinity ? { maxWaitMs: wait } : {}) };
      watch.later = { gates: [this.concurrency], context };
    }
    if (this.#g.mayWait) {
      // Gates built here all take sluice's WaitSignal (core/wait-signal.ts: tens of ns, not the
      // µs of an AbortController); a gate the user gave gets a real AbortSignal.
      if (this.#g.ownGates) {
        const signal = new WaitSignal();
        watch.controller = signal;
        ctx.signal = signal as unknown as AbortSignal;
      } else {
        const controller = new AbortController();
        watch.controller = controller;
        ctx.signal = controller.signal;
      }
    }
    // The response is watched when its close has something to do: end a wait, or release the
    // permit of an adapter's request. A caller that owns the permit of a request decided at
    // once (the gateway's usual case) leaves it nothing: no listener then. Its wait is watched
    // from right after the walk, which misses nothing: node:http emits 'close' from the event
    // loop, never within the walk.
    if (!callerOwns) this.#watch(res, watch);
    let result: ChainResult | Promise<HttpDecision>;
    try {
      // A wait settles through the watch (done, failed) in the walk's own continuation.
      result = walkChain(beforeWork ? this.#beforeWork : this.#g.chain, ctx, watch);
    } catch (err) {
      return watch.failed(err);
    }
    if (!isPending(result)) return this.#settle(result, watch);
    if (callerOwns) this.#watch(res, watch);
    return result;
  }

  #watch(res: HttpResponseLike, watch: ResponseWatch): void {
    (res as HttpResponseLike & { [kWatch]?: ResponseWatch | undefined })[kWatch] = watch;
    res.on('close', onResponseClose);
  }

  /** A wait's end (ResponseWatch.done): module-private. */
  [kSettle](r: ChainResult, watch: ResponseWatch): HttpDecision {
    return this.#settle(r, watch);
  }

  /** The outcome a response status means to the gates (the `classify` option). */
  outcomeOf(status: number): Outcome {
    return this.#o.classify(status);
  }

  #settle(r: ChainResult, watch: ResponseWatch): HttpDecision {
    watch.controller = undefined; // the wait is over: nothing left to abort when the response closes
    if (r.rejection !== undefined) {
      const quota = r.refusedBy !== undefined && this.#g.quota.has(r.refusedBy) && r.rejection.reason === 'rate_limited';
      return this.#refused(quota ? { ...r.rejection, reason: 'quota' } : r.rejection, r.facts, r.rejection.facts, watch.cost);
    }
    const permit = new HttpPermit(this.name, r.permits, r.facts, this.#o.classify);
    if (watch.closed) {
      // The client left while the last gate answered: nothing will run.
      permit.release('dropped');
      return ABANDONED;
    }
    if (!watch.callerOwns) watch.permit = permit;
    const headers = rateLimitHeaders(this.#o.headers, r.facts);
    return watch.later === undefined ? { type: 'admitted', headers, permit } : { type: 'admitted', headers, permit, later: watch.later };
  }

  #refused(rejection: Rejection, facts: readonly PolicyFacts[], refusedFacts: PolicyFacts | undefined, cost = 1): Refused {
    // A rate refusal that no wait ends (retryAfterMs Infinity: the cost is above the policy's
    // burst) reports the policy's own window, not a t of 2^31 - 1 s, and says why in the body.
    const never = refusedFacts !== undefined && rejection.retryAfterMs === Infinity && (rejection.reason === 'rate_limited' || rejection.reason === 'quota');
    const refused = refusedFacts === undefined ? undefined : { index: facts.length - 1, seconds: deltaSeconds(never ? refusedFacts.resetMs : rejection.retryAfterMs) };
    const retryS = retryAfterSeconds(rejection.retryAfterMs, facts, refused);
    // Without facts (a capacity refusal: queue, concurrency, shedding, breaker), the answer
    // depends only on the reason and the Retry-After seconds: rendered once, then shared.
    const cacheable = facts.length === 0 && refusedFacts === undefined;
    const byRetry = cacheable ? this.#refusals.get(rejection.reason) : undefined;
    const cached = byRetry?.get(retryS);
    if (cached !== undefined) return { type: 'rejected', status: cached.problem.status, headers: cached.headers, body: cached.body, problem: cached.problem, rejection };
    const headers: HeaderPair[] = rateLimitHeaders(this.#o.headers, facts, refused);
    if (retryS !== undefined) headers.push(['Retry-After', String(retryS)]);
    headers.push(['Content-Type', PROBLEM_CONTENT_TYPE]);
    const p = problem(rejection.reason, refusedFacts === undefined ? [] : [refusedFacts.policy], retryS, never ? neverDetail(refusedFacts, cost) : undefined);
    const body = JSON.stringify(p);
    if (cacheable && this.#refusalsCached < REFUSAL_CACHE_SIZE) {
      let m = byRetry;
      if (m === undefined) this.#refusals.set(rejection.reason, (m = new Map<number | undefined, RenderedRefusal>()));
      m.set(retryS, { headers: Object.freeze(headers), body, problem: Object.freeze(p) });
      this.#refusalsCached++;
    }
    return { type: 'rejected', status: statusOf(rejection.reason), headers, body, problem: p, rejection };
  }

  #costOf(req: R): number {
    const c = this.#o.cost;
    if (typeof c === 'number') return c;
    const v = c(req);
    // A cost function's bad answer (NaN, 0, negative, not a number) counts as one unit: defined, never a throw.
    return typeof v === 'number' && v >= 1 && v <= Number.MAX_VALUE ? v : 1;
  }

  /** Stop admitting: every gate this policy asks is closed (queued requests get 503). */
  close(): void {
    for (const g of this.#g.chain) g.close();
  }
}

/** A capacity refusal rendered once and shared by every request refused alike. */
interface RenderedRefusal {
  readonly headers: readonly HeaderPair[];
  readonly body: string;
  readonly problem: Problem;
}

/**
 * One request's watch on its response: aborts its wait, or (adapters) releases its permit, on
 * 'close'. It is also how a wait ends (the chain walk's ChainThen): no closures per request.
 */
class ResponseWatch implements ChainThen<HttpDecision> {
  /** Set once admitted, unless the caller owns the permit. */
  permit: HttpPermit | undefined = undefined;
  /** What aborts the wait: the WaitSignal itself, or the AbortController of a real signal. */
  controller: { abort(reason: unknown): void } | undefined = undefined;
  closed = false;
  /** decideBeforeWork: the gates to ask once the work can start. */
  later: LaterAsk | undefined = undefined;

  constructor(
    readonly admission: { [kSettle](r: ChainResult, watch: ResponseWatch): HttpDecision },
    readonly callerOwns: boolean,
    /** The request's cost, named when a rate policy can never admit it. */
    readonly cost: number,
  ) {}

  done(r: ChainResult): HttpDecision {
    return this.admission[kSettle](r, this);
  }

  /** A wait that ended in an abort (its client left) is abandoned; anything else is thrown on. */
  failed(err: unknown): HttpDecision {
    if (err instanceof AbortedError) return ABANDONED;
    throw err;
  }
}

/** Why a request whose cost is above a policy's burst (`limit` in its facts) is refused for good. */
function neverDetail(f: PolicyFacts, cost: number): string {
  return `This request costs more than policy ${JSON.stringify(f.policy)} allows at once (${cost} units; at most ${f.limit}); it will not be admitted however long the client waits.`;
}

const kWatch = Symbol('sluice.http.watch');

/**
 * The one 'close' listener of every watched response (`this` is the response): no closure
 * per request. A response closes once; a second call finds the watch gone.
 */
function onResponseClose(this: HttpResponseLike & { [kWatch]?: ResponseWatch | undefined }): void {
  const w = this[kWatch];
  if (w === undefined) return;
  this[kWatch] = undefined;
  w.closed = true;
  // A finished response is classified by its status; a close before that is a drop.
  if (w.permit !== undefined) {
    if (this.writableFinished) w.permit.finish(this.statusCode);
    else w.permit.release('dropped');
  } else w.controller?.abort(CLIENT_GONE);
}
