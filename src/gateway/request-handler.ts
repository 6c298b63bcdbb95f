/**
 * One client request through the gateway: refuse what is not ours to proxy (absolute-form
 * targets to other hosts, CONNECT), bring the path to its canonical form (canonical-path.ts:
 * the route is found for it, and it is what goes upstream) or refuse it, find the route,
 * read the body whole within its size, time and memory bounds (body-reader.ts: a slow
 * uploader is never admitted), ask the route's policy (sluice/http) for admission, then
 * forward. A client that sent `Expect: 100-continue` waits to be told to send its body: it is
 * admitted first, and told so only then (expect-continue.ts), so a refused client never
 * uploads. Every refusal carries Retry-After: the gate's estimate, the drain's, or a default
 * when the gate had none.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { isPromise } from '../core/gate-base.js';
import type { Rejection } from '../core/types.js';
import type { HttpDecision, Refused } from '../http/decision.js';
import type { HttpPermit } from '../http/http-permit.js';
import type { HeaderPair } from '../http/ratelimit-headers.js';
import type { BadRequests, BadVerdict } from './bad-requests.js';
import { hasBody, readBody, reserveBody } from './body-reader.js';
import type { BodyLimits, BodyRefusal, RequestBody } from './body-reader.js';
import { deferredBody, withBody } from './expect-continue.js';
import type { BodySource } from './expect-continue.js';
import type { MemoryBudget } from './memory-budget.js';
import { canonicalTarget, withoutParams } from './canonical-path.js';
import { identityVerdict } from './identity-headers.js';
import { GATEWAY_DEFAULTS } from './defaults.js';
import type { Logger } from './logger.js';
import type { PolicyInstance } from './policy-instance.js';
import type { ForwardContext } from './proxy.js';
import type { RefusalPacer } from './refusal-pacer.js';
import type { SlowReaders } from './slow-readers.js';
import type { RejectionLog } from './rejection-log.js';
import { messageVerdict } from './message-checks.js';
import { ALLOWED_METHODS, writeProblem, writeRejection } from './responses.js';
import { activePolicy, forwardRoute, shadowed, shadowWait } from './route-hooks.js';
import type { LiveRoute, RouteTable } from './route-table.js';

export interface GatewayCounters {
  requests: number;
  admitted: number;
  rejected: number;
  upstreamErrors: number;
  upstreamTimeouts: number;
  /** Request bodies refused before admission: too slow (408), too large (413), no memory for them (503). */
  bodyTimeouts: number;
  bodyTooLarge: number;
  bodyMemoryFull: number;
  /** Responses that outgrew their buffer ahead of a slow client: the permit ended before the upstream finished. */
  slowReadersReleased: number;
  /** Clients disconnected for taking nothing of a pending response for writeTimeout. */
  writeTimeouts: number;
  /** Responses waiting for slow clients cut to give their upstream connection to a request waiting for one. */
  slowReadersYielded: number;
}

export function newCounters(): GatewayCounters {
  return { requests: 0, admitted: 0, rejected: 0, upstreamErrors: 0, upstreamTimeouts: 0, bodyTimeouts: 0, bodyTooLarge: 0, bodyMemoryFull: 0, slowReadersReleased: 0, writeTimeouts: 0, slowReadersYielded: 0 };
}

/** What a request needs of the gateway; `table` is swapped whole on reload. */
export interface HandlerState {
  table: RouteTable;
  draining: boolean;
  /** Requests waiting for admission now. */
  queued: number;
  readonly logger: Logger;
  readonly rejections: RejectionLog;
  readonly counters: GatewayCounters;
  /** Requests refused for what they are (bad-requests.ts). */
  readonly badRequests: BadRequests;
  /** Refused keep-alive connections are not read until their Retry-After (refusal-pacer.ts). */
  readonly pacer: RefusalPacer;
  /** Responses waiting for slow clients, per upstream: they yield their connections (slow-readers.ts). */
  readonly slowReaders?: SlowReaders;
  /** Requests pipelined on a connection wait their turn (pipeline-limit.ts); how many wait, per socket. */
  readonly pipeline?: { backlog(socket: Socket): number };
  /** `host:port` of the proxy listener: the only authority an absolute-form target may name. */
  ownHost: string;
  /** Request bodies read before admission (`server.bodyMemory`). */
  readonly bodyMemory: MemoryBudget;
  /** Response bytes held ahead of slow clients (`server.responseMemory`). */
  readonly responseMemory: MemoryBudget;
}

/** `expectsContinue`: the client sent `Expect: 100-continue` (node:http's 'checkContinue'), and waits for 100 Continue before its body. */
export function handleRequest(state: HandlerState, req: IncomingMessage, res: ServerResponse, expectsContinue = false): void {
  // Its connection was answered already (a first line without a version: versionless-requests.ts) and is closing.
  if (state.badRequests.answered(req.socket)) return;
  state.counters.requests++;
  const table = state.table;
  const server = table.config.server;
  if (state.draining) res.setHeader('Connection', 'close');
  let url = req.url ?? '/';
  // CONNECT never comes here: node:http hands it to the server's `connect` event (client-errors.ts).
  const malformed = messageVerdict(req);
  if (malformed !== undefined) return refuseBad(state, res, malformed);
  if (url === '*' && req.method === 'OPTIONS') {
    // A question about this server (RFC 9110 section 9.3.7), not about a resource: answered here.
    res.writeHead(204, ['Allow', ALLOWED_METHODS]);
    res.end();
    return;
  }
  if (!url.startsWith('/')) {
    // Absolute form: only for this gateway's own host (RFC 9112 section 3.2.2); never an open proxy.
    const own = ownTarget(url, state.ownHost);
    if (own === undefined) {
      if (!URL.canParse(url)) return refuseBad(state, res, badTarget);
      return refuseBad(state, res, foreignTarget);
    }
    url = own;
  }
  // Routed on the canonical path, and forwarded with it (proxy.ts sends req.url): the
  // upstream sees the path the route was chosen for, whatever form the client wrote.
  const canonical = canonicalTarget(url);
  if (!canonical.ok) return refuseBad(state, res, { status: 400, reason: canonical.reason, detail: canonical.detail });
  req.url = canonical.target;
  const path = canonical.path;
  const route = table.match(req.method ?? 'GET', path);
  // Servers that drop segment parameters would route /api;x/y as /api/y: refuse the path if that is another route.
  if (path.includes(';') && table.match(req.method ?? 'GET', withoutParams(path)) !== route) return refuseBad(state, res, ambiguousParams);
  if (route === undefined) return writeProblem(res, 404, 'No route matches this request.');
  // TRACE echoes the request (cookies and credentials included) back: only where a route allows it.
  if (req.method === 'TRACE' && !route.config.allowTrace) return refuseBad(state, res, traceRefused, { Allow: ALLOWED_METHODS });
  const policy = route.config.exempt ? undefined : activePolicy(route, req);
  if (policy !== undefined) {
    const ambiguous = identityVerdict(req, policy.identityHeaders);
    if (ambiguous !== undefined) return refuseBad(state, res, ambiguous);
  }
  if (!hasBody(req)) return admit(state, route, policy, req, res, path, NO_BODY);
  const limits: BodyLimits = { maxBytes: route.config.maxBodySize, timeoutMs: server.bodyTimeoutMs, memory: state.bodyMemory };
  if (expectsContinue) {
    // Its declared size and memory are judged now (413, 503), its admission next, and only
    // then is it told to send its body (hostile finding F15).
    const reserved = reserveBody(req, limits);
    if (reserved.type === 'refused') return refuseBody(state, route, res, reserved.refusal);
    if (reserved.type === 'reserved') {
      const refuseSlot = (r: Rejection): void => {
        state.counters.rejected++;
        state.rejections.count(route.config.name, r.reason, 503);
        writeRejection(res, r, GATEWAY_DEFAULTS.retryAfterS);
      };
      return admit(state, route, policy, req, res, path, deferredBody(res, reserved, limits, (r) => refuseBody(state, route, res, r), refuseSlot));
    }
  }
  readBody(req, limits, (outcome) => {
    if (outcome.type === 'gone') return;
    if (outcome.type === 'refused') return refuseBody(state, route, res, outcome.refusal);
    const body = outcome.body;
    // Given back when the upstream has it (proxy.ts), or with the response in any case.
    if (body.hold !== undefined) res.once('close', () => body.hold!.release());
    admit(state, route, policy, req, res, path, body);
  });
}

/** A request with an expectation other than 100-continue (node:http's 'checkExpectation'): 417, with its reason. */
export function refuseExpectation(state: HandlerState, res: ServerResponse): void {
  state.counters.requests++;
  refuseBad(state, res, expectationFailed);
}

const NO_BODY: RequestBody = { bytes: null, hold: undefined };

/** A body refused before admission: counted, logged with the route's refusals, answered, and the connection closed. */
function refuseBody(state: HandlerState, route: LiveRoute, res: ServerResponse, r: BodyRefusal): void {
  const c = state.counters;
  if (r.status === 408) c.bodyTimeouts++;
  else if (r.status === 413) c.bodyTooLarge++;
  else c.bodyMemoryFull++;
  state.rejections.count(route.config.name, r.reason, r.status);
  writeProblem(res, r.status, r.detail, r.status === 503 ? { 'Retry-After': String(GATEWAY_DEFAULTS.retryAfterS), Connection: 'close' } : { Connection: 'close' });
}

/** Admission (when the route has a policy for this request), then forwarding. */
function admit(state: HandlerState, route: LiveRoute, policy: PolicyInstance | undefined, req: IncomingMessage, res: ServerResponse, path: string, body: BodySource): void {
  const table = state.table;
  const server = table.config.server;
  if (policy === undefined) return forwardWith(state, route, req, res, body, undefined);
  let decision: HttpDecision | Promise<HttpDecision>;
  try {
    // The forwarder owns the permit (proxy.ts): the response's close only ends a wait.
    decision = policy.admission.decide(req, res, route.admission, path);
  } catch (err) {
    state.logger.error('admission failed', { route: route.config.name, error: String(err) });
    return writeProblem(res, 500, 'Admission failed.');
  }
  if (!isPromise(decision)) return proceed(state, route, decision, req, res, body);
  if (policy.rollout.shadow) return shadowWait(route, decision, state.logger, res, () => forwardWith(state, route, req, res, body, undefined));
  if (state.queued >= server.maxQueued) {
    // Over the gateway-wide cap on waiting requests: answer at once, and that is all. The
    // response's close aborts the wait; should a gate admit it first, nothing runs.
    state.counters.rejected++;
    state.rejections.count(route.config.name, 'queue_full', 503);
    closeIfPipelined(state, res);
    writeProblem(res, 503, 'The gateway has as many requests waiting as it may hold.', { 'Retry-After': String(GATEWAY_DEFAULTS.retryAfterS) });
    state.pacer.refused(req.socket, GATEWAY_DEFAULTS.retryAfterS * 1000, table.trusted);
    decision.then(
      (d) => {
        if (d.type === 'admitted') d.permit.release('ignored');
      },
      (err: unknown) => state.logger.error('admission failed', { route: route.config.name, error: String(err) }),
    );
    return;
  }
  state.queued++;
  decision.then(
    (d) => {
      state.queued--;
      if (res.writableEnded) {
        if (d.type === 'admitted') d.permit.release('ignored');
        return;
      }
      proceed(state, route, d, req, res, body);
    },
    (err: unknown) => {
      state.queued--;
      state.logger.error('admission failed', { route: route.config.name, error: String(err) });
      writeProblem(res, 500, 'Admission failed.');
    },
  );
}

const badTarget: BadVerdict = { status: 400, reason: 'bad_target', detail: 'The request target is neither a path starting with / nor an absolute URL of this gateway.' };
const foreignTarget: BadVerdict = { status: 400, reason: 'foreign_target', detail: 'Absolute-form request targets for other hosts are refused: this is not an open proxy.' };
const ambiguousParams: BadVerdict = { status: 400, reason: 'ambiguous_params', detail: 'The path has segment parameters (;...) under which servers that drop them would route it to another route.' };
const traceRefused: BadVerdict = { status: 405, reason: 'method_not_allowed', detail: 'TRACE is not allowed on this route.' };
const expectationFailed: BadVerdict = { status: 417, reason: 'expectation_failed', detail: 'The only expectation served is Expect: 100-continue.' };

/** A request refused for what it is: counted by reason, answered, and its connection closed. */
function refuseBad(state: HandlerState, res: ServerResponse, v: BadVerdict, headers: Readonly<Record<string, string>> = {}): void {
  state.badRequests.count(v.reason, v.status);
  // What the parser reports about the rest of this connection (a body in a coding it cannot read) is not another request.
  state.badRequests.markAnswered(res.socket ?? res);
  writeProblem(res, v.status, v.detail, { ...headers, Connection: 'close' });
}

function proceed(state: HandlerState, route: LiveRoute, d: HttpDecision, req: IncomingMessage, res: ServerResponse, body: BodySource): void {
  if (d.type === 'abandoned') return;
  if (d.type === 'rejected') return shadowed(route, d, state.logger) ? forwardWith(state, route, req, res, body, undefined) : refuse(state, route, d, res);
  if (d.type === 'admitted') {
    state.counters.admitted++;
    return forwardWith(state, route, req, res, body, d.permit, d.headers);
  }
  forwardWith(state, route, req, res, body, undefined);
}

/** Forward once the body is read (a deferred one is asked for now: 100 Continue); a body refused then releases the permit. */
function forwardWith(state: HandlerState, route: LiveRoute, req: IncomingMessage, res: ServerResponse, body: BodySource, permit: HttpPermit | undefined, headers?: readonly HeaderPair[]): void {
  withBody(req, res, body, permit, route.policy?.admission.concurrency, (b, p) => forwardRoute(route, req, res, b, p, forwardContext(state, route), headers));
}

/** Per route, built once: what forwarding needs of the gateway (routes are rebuilt on reload). */
const forwardContexts = new WeakMap<LiveRoute, ForwardContext>();

function forwardContext(state: HandlerState, route: LiveRoute): ForwardContext {
  let ctx = forwardContexts.get(route);
  if (ctx === undefined) forwardContexts.set(route, (ctx = buildForwardContext(state, route)));
  return ctx;
}

function buildForwardContext(state: HandlerState, route: LiveRoute): ForwardContext {
  const table = state.table;
  return {
    trusted: table.trusted,
    stripped: table.stripped,
    responseBuffer: table.config.server.responseBuffer,
    responseMemory: state.responseMemory,
    writeTimeoutMs: table.config.server.writeTimeoutMs,
    ...(state.slowReaders !== undefined ? { slowReaders: state.slowReaders } : {}),
    onSlowReader: (what) => {
      if (what === 'released') state.counters.slowReadersReleased++;
      else state.counters.writeTimeouts++;
    },
    onUpstreamFailure: (kind, error) => {
      if (kind === 'timeout') state.counters.upstreamTimeouts++;
      else state.counters.upstreamErrors++;
      state.logger.debug('upstream failure', { route: route.config.name, upstream: route.upstream.config.name, kind, error });
    },
  };
}

/**
 * A refusal's header block as writeHead takes it (flat name/value list, Retry-After and
 * Content-Length included) and its Retry-After seconds, kept for the shared header lists of
 * rendered capacity refusals: under overload most answers are one of a handful of refusals,
 * written without a setHeader call, or a look for their Retry-After, each.
 */
interface RefusalHead {
  readonly head: string[];
  /** The Retry-After the head says, s. */
  readonly retryS: number;
}

const refusalHeads = new WeakMap<readonly unknown[], RefusalHead>();

function refusalHead(d: Refused, retryAfterS: number): RefusalHead {
  const cached = refusalHeads.get(d.headers);
  if (cached !== undefined) return cached;
  const head: string[] = [];
  let retryS: number | undefined;
  for (const [name, value] of d.headers) {
    head.push(name, value);
    if (retryS === undefined && name.toLowerCase() === 'retry-after') retryS = Number(value);
  }
  if (retryS === undefined) head.push('Retry-After', String(retryAfterS));
  head.push('Content-Length', String(Buffer.byteLength(d.body)));
  const rendered = { head, retryS: retryS ?? retryAfterS };
  // Only frozen lists are shared between requests; a fresh list is this request's alone.
  if (Object.isFrozen(d.headers) && retryS !== undefined) refusalHeads.set(d.headers, rendered);
  return rendered;
}

function refuse(state: HandlerState, route: LiveRoute, d: Refused, res: ServerResponse): void {
  state.counters.rejected++;
  state.rejections.count(route.config.name, d.rejection.reason, d.status);
  if (res.headersSent) return;
  const s = state.draining ? Math.ceil(state.table.config.drain.retryAfterMs / 1000) : GATEWAY_DEFAULTS.retryAfterS;
  const { head, retryS } = refusalHead(d, Math.max(1, s));
  const socket = res.socket;
  closeIfPipelined(state, res);
  res.writeHead(d.status, head);
  res.end(d.body);
  if (state.draining) return;
  // A rate limit knows to the ms when the client's next unit is there (the header rounds it
  // up to whole seconds): pause that long. A capacity refusal pauses for what the header says.
  const r = d.rejection;
  const pauseMs = r.reason === 'rate_limited' && Number.isFinite(r.retryAfterMs) ? r.retryAfterMs : retryS * 1000;
  state.pacer.refused(socket, pauseMs, state.table.trusted);
}

/**
 * A refusal while pausing is engaged, with requests pipelined behind it (hostile finding F24):
 * the pause stops new reads, but those were read already, and each would be refused at full
 * speed — a pipelining client makes a pause worth hundreds of refusals. The refusal says
 * Connection: close instead; the backlog is not served (the client retries it, as a client
 * must with pipelined requests a closed connection left unanswered).
 */
function closeIfPipelined(state: HandlerState, res: ServerResponse): void {
  const socket = res.socket;
  if (socket !== null && state.pacer.engaged && (state.pipeline?.backlog(socket) ?? 0) > 0) res.shouldKeepAlive = false;
}

/**
 * An absolute-form target naming the gateway's own listener, as origin form (its path as the
 * client wrote it, for canonicalTarget to judge: the URL parser's own normalising, which reads
 * `\` as `/`, is not this gateway's); otherwise undefined. The Host header is not trusted for
 * this: the client writes both.
 */
function ownTarget(url: string, host: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' || u.host.toLowerCase() !== host.toLowerCase() || !/^http:\/\//i.test(url)) return undefined;
  const rest = url.slice(7).search(/[/?#]/);
  if (rest < 0) return '/';
  const target = url.slice(7 + rest);
  return target.startsWith('/') ? target : `/${target}`;
}
