/**
 * The HTTP admission policy every adapter translates: who the tenant is, how critical the
 * request is, what it costs, then the gates (route-gates.ts); the answer becomes headers
 * and, for a refusal, a status and a problem+json body. One instance is one route group:
 * routes given the same instance share its limits.
 *
 * Lifecycle: the permit of an admitted request is released when its response closes —
 * with the outcome of `classify(status)` when the response was finished, 'dropped' when the
 * client went away first (adaptive limits and breakers then see a drop, not a success).
 * A request still waiting when its client goes away is taken out of the queue at once
 * (its AbortSignal fires on the response's 'close').
 *
 * Early refusal: when the concurrency gate is full and the expected wait exceeds what the
 * request may wait, it is refused at once with that estimate as Retry-After, rather than
 * after waiting in vain. The expected wait for queue position k is the larger of two
 * estimates: smoothed service time x k / limit (what the upstream allows), and the
 * smoothed observed wait per queue position x k (what it took lately, including the time
 * a slot spends between one request's end and the next one's start in this process; only
 * while its last sample is no older than the request's wait budget).
 * A request is queued only when that expectation is within 80% of its wait budget.
 */
import { AbortedError } from '../core/errors.js';
import type { AdmissionContext, Outcome, PolicyFacts, Rejection } from '../core/types.js';
import type { Clock } from '../core/clock.js';
import type { ConcurrencyGate } from '../concurrency/concurrency-gate.js';
import type { LoadShedder } from '../pressure/load-shedder.js';
import { CLASS_PRIORITY } from '../pressure/criticality.js';
import type { HttpRequestLike } from './client-ip.js';
import { requestClass } from './criticality.js';
import { ABANDONED, EXEMPT } from './decision.js';
import type { HttpDecision, HttpResponseLike, Refused } from './decision.js';
import type { Problem } from './problem.js';
import type { HttpAdmissionOptions, ResolvedHttpOptions, RouteAdmission } from './options.js';
import { resolveHttpOptions } from './options.js';
import { runChain } from './permit-chain.js';
import type { ChainResult } from './permit-chain.js';
import { HttpPermit } from './http-permit.js';
import { PROBLEM_CONTENT_TYPE, problem, statusOf } from './problem.js';
import { deltaSeconds, rateLimitHeaders, retryAfterSeconds } from './ratelimit-headers.js';
import type { HeaderPair } from './ratelimit-headers.js';
import type { PolicyGates } from './route-gates.js';
import { buildGates } from './route-gates.js';
import { tenantResolver } from './tenant.js';
import type { TenantResolver } from './tenant.js';

/** Smoothing of the service-time estimate behind early refusals (EWMA weight of a new sample). */
const LATENCY_ALPHA = 0.1;
/**
 * An estimate is a mean: a request expected to be served just inside its wait budget times
 * out whenever throughput dips. Requests are queued only when expected to be served within
 * this share of the budget; the rest is headroom.
 */
const EARLY_HEADROOM = 0.8;
/** Smoothing of the observed wait per queue position (EWMA weight of a new sample). */
const WAIT_ALPHA = 0.05;
/** Rendered capacity refusals kept per policy: (reason, Retry-After seconds) pairs. */
const REFUSAL_CACHE_SIZE = 64;
/** The abort reason of a wait whose client went away (shared: no DOMException per abort). */
const CLIENT_GONE = Object.freeze(new Error('the client closed the connection while its request waited for admission'));

export class HttpAdmission<R extends HttpRequestLike = HttpRequestLike> {
  readonly name: string;
  readonly clock: Clock;
  readonly shedder: LoadShedder | undefined;
  readonly concurrency: ConcurrencyGate | undefined;
  readonly #o: ResolvedHttpOptions<R>;
  readonly #g: PolicyGates;
  readonly #tenant: TenantResolver<R>;
  /** Smoothed service time of admitted requests, ms; 0 until the first one finishes. */
  #serviceMs = 0;
  /** Smoothed observed wait per queue position of requests admitted after waiting, ms; 0 until one was. */
  #waitPerPositionMs = 0;
  /** When the last such request was admitted (clock ms). */
  #waitSampledAt = 0;
  /** Only a concurrency queue needs the service time (early refusals): otherwise no clock reads. */
  readonly #tracksService: boolean;
  readonly #refusals = new Map<string, { readonly headers: readonly HeaderPair[]; readonly body: string; readonly problem: Problem }>();

  constructor(options: HttpAdmissionOptions<R>) {
    this.#o = resolveHttpOptions(options);
    this.name = this.#o.name;
    this.#g = buildGates(options as HttpAdmissionOptions<never>, this.name);
    this.clock = this.#g.clock;
    this.shedder = this.#g.shedder;
    this.concurrency = this.#g.concurrency;
    this.#tracksService = this.concurrency !== undefined && this.#g.queueWaitMs > 0;
    this.#tenant = tenantResolver(options.tenant ?? 'ip', this.#o.ip);
  }

  /** The tenant key `req` is limited under (`ip:...`, `key:...`, `user:...`). */
  tenantOf(req: R): string {
    return this.#tenant(req);
  }

  /** Smoothed service time of admitted requests, ms (0 before the first release; only tracked with a concurrency queue). */
  get serviceMs(): number {
    return this.#serviceMs;
  }

  /**
   * Decide for one request. `path` is the request path without query (for `exempt`);
   * `route` the route's settings. Synchronous unless a gate makes the request wait.
   */
  handle(req: R, res: HttpResponseLike, route?: RouteAdmission, path?: string): HttpDecision | Promise<HttpDecision> {
    const o = this.#o;
    if (route?.exempt === true) return EXEMPT;
    if (path !== undefined && (o.exemptPaths?.has(path) === true || (o.exemptFn !== undefined && o.exemptFn(req, path)))) return EXEMPT;
    if (res.destroyed) return ABANDONED;
    let wait = route?.maxWaitMs ?? o.maxWaitMs;
    if (o.budgetMs !== undefined) {
      const b = o.budgetMs(req);
      if (typeof b === 'number' && b >= 0 && b < wait) wait = b;
    }
    const early = this.#earlyRefusal(wait);
    if (early !== undefined) return this.#refused(early, [], undefined);
    const cls = requestClass(req, o.criticality, route?.criticality);
    const ctx: { -readonly [K in keyof AdmissionContext]: AdmissionContext[K] } = {
      key: this.#tenant(req),
      priority: CLASS_PRIORITY[cls],
      cost: route?.cost ?? this.#costOf(req),
    };
    if (wait !== Infinity) ctx.maxWaitMs = wait;
    const watch: ResponseWatch = { policy: this, permit: undefined, controller: undefined, closed: false, position: 0, enteredAt: 0 };
    const c = this.concurrency;
    if (this.#tracksService && c !== undefined && (c.queued > 0 || c.inFlight >= c.limit)) {
      // It will most likely wait: remember where it joined, to learn the wait per position.
      watch.position = c.queued + 1;
      watch.enteredAt = this.clock.now();
    }
    if (this.#g.mayWait) {
      watch.controller = new AbortController();
      ctx.signal = watch.controller.signal;
    }
    (res as HttpResponseLike & { [kWatch]?: ResponseWatch | undefined })[kWatch] = watch;
    res.on('close', onResponseClose);
    let result: ChainResult | Promise<ChainResult>;
    try {
      result = runChain(this.#g.chain, ctx);
    } catch (err) {
      if (err instanceof AbortedError) return ABANDONED;
      throw err;
    }
    if (result instanceof Promise) {
      return result.then(
        (r) => this.#settle(r, watch),
        (err: unknown) => {
          if (err instanceof AbortedError) return ABANDONED;
          throw err;
        },
      );
    }
    return this.#settle(result, watch);
  }

  /** The outcome a response status means to the gates (the `classify` option). */
  outcomeOf(status: number): Outcome {
    return this.#o.classify(status);
  }

  /** Called once per admitted request when its response closes. */
  onFinished(permit: HttpPermit, res: HttpResponseLike): void {
    const finished = res.writableFinished;
    if (finished && this.#tracksService) {
      const ms = this.clock.now() - permit.grantedAt;
      this.#serviceMs = this.#serviceMs === 0 ? ms : this.#serviceMs + LATENCY_ALPHA * (ms - this.#serviceMs);
    }
    permit.release(finished ? this.#o.classify(res.statusCode) : 'dropped');
  }

  #settle(r: ChainResult, watch: ResponseWatch): HttpDecision {
    watch.controller = undefined; // the wait is over: nothing left to abort when the response closes
    if (r.rejection !== undefined) {
      const quota = r.refusedBy !== undefined && this.#g.quota.has(r.refusedBy) && r.rejection.reason === 'rate_limited';
      return this.#refused(quota ? { ...r.rejection, reason: 'quota' } : r.rejection, r.facts, r.rejection.facts);
    }
    const grantedAt = this.#tracksService ? this.clock.now() : 0;
    if (watch.position > 0) {
      const perPosition = (grantedAt - watch.enteredAt) / watch.position;
      this.#waitPerPositionMs = this.#waitPerPositionMs === 0 ? perPosition : this.#waitPerPositionMs + WAIT_ALPHA * (perPosition - this.#waitPerPositionMs);
      this.#waitSampledAt = grantedAt;
    }
    const permit = new HttpPermit(this.name, r.permits, grantedAt, r.facts);
    if (watch.closed) {
      // The client left while the last gate answered: nothing will run.
      permit.release('dropped');
      return ABANDONED;
    }
    watch.permit = permit;
    return { type: 'admitted', headers: rateLimitHeaders(this.#o.headers, r.facts), permit };
  }

  #refused(rejection: Rejection, facts: readonly PolicyFacts[], refusedFacts: PolicyFacts | undefined): Refused {
    const refused = refusedFacts === undefined ? undefined : { index: facts.length - 1, seconds: deltaSeconds(rejection.retryAfterMs) };
    const retryS = retryAfterSeconds(rejection.retryAfterMs, facts, refused);
    // Without facts (a capacity refusal: queue, concurrency, shedding, breaker), the answer
    // depends only on the reason and the Retry-After seconds: rendered once, then shared.
    const cacheKey = facts.length === 0 && refusedFacts === undefined ? `${rejection.reason}:${retryS}` : undefined;
    const cached = cacheKey === undefined ? undefined : this.#refusals.get(cacheKey);
    if (cached !== undefined) return { type: 'rejected', status: cached.problem.status, headers: cached.headers, body: cached.body, problem: cached.problem, rejection };
    const headers: HeaderPair[] = rateLimitHeaders(this.#o.headers, facts, refused);
    if (retryS !== undefined) headers.push(['Retry-After', String(retryS)]);
    headers.push(['Content-Type', PROBLEM_CONTENT_TYPE]);
    const p = problem(rejection.reason, refusedFacts === undefined ? [] : [refusedFacts.policy], retryS);
    const body = JSON.stringify(p);
    if (cacheKey !== undefined && this.#refusals.size < REFUSAL_CACHE_SIZE) this.#refusals.set(cacheKey, { headers: Object.freeze(headers), body, problem: Object.freeze(p) });
    return { type: 'rejected', status: statusOf(rejection.reason), headers, body, problem: p, rejection };
  }

  /** A refusal the concurrency queue would give only after the request waited in vain (see the module comment). */
  #earlyRefusal(wait: number): Rejection | undefined {
    const c = this.concurrency;
    if (c === undefined || this.#serviceMs === 0) return undefined;
    const limit = c.limit;
    if (c.inFlight < limit && c.queued === 0) return undefined;
    const budget = Math.min(wait, this.#g.queueWaitMs);
    // Observed waits older than the budget are stale: only requests that wait teach them, and
    // while they refuse every request that finds the gate full none waits, so a slow spell that
    // has passed would otherwise keep the queue shut for good.
    const perSlot = this.#serviceMs / limit;
    const perPosition = this.#waitPerPositionMs > perSlot && this.clock.now() - this.#waitSampledAt <= budget ? this.#waitPerPositionMs : perSlot;
    const expected = perPosition * (c.queued + 1);
    if (budget === 0 || expected <= budget * EARLY_HEADROOM) return undefined; // no queue, or it may well work: the gate decides
    return { ok: false, gate: c.name, reason: 'queue_timeout', retryAfterMs: Math.ceil(expected), facts: undefined };
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

/** One request's watch on its response: aborts its wait, or releases its permit, on 'close'. */
interface ResponseWatch {
  readonly policy: { onFinished(permit: HttpPermit, res: HttpResponseLike): void };
  permit: HttpPermit | undefined;
  controller: AbortController | undefined;
  closed: boolean;
  /** Queue position when it joined (0: not expected to wait, or not tracked). */
  position: number;
  enteredAt: number;
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
  if (w.permit !== undefined) w.policy.onFinished(w.permit, this);
  else w.controller?.abort(CLIENT_GONE);
}
