/**
 * One client request through the gateway: refuse what is not ours to proxy (absolute-form
 * targets to other hosts, CONNECT), bring the path to its canonical form (canonical-path.ts:
 * the route is found for it, and it is what goes upstream) or refuse it, find the route,
 * read the body whole within its size, time and memory bounds (body-reader.ts: a slow
 * uploader is never admitted), ask the route's policy (sluice/http) for admission, then
 * forward. A body still arriving is not waited for to be refused (body-in-flight.ts): its
 * request is decided at once, and a refusal closes the connection. A client that sent `Expect: 100-continue` waits to be told to send its body: it is
 * admitted first, and told so only then (expect-continue.ts), so a refused client never
 * uploads. Every refusal carries Retry-After: the gate's estimate, the drain's, or a default
 * when the gate had none.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPromise } from '../core/gate-base.js';
import type { Gate } from '../core/types.js';
import type { HttpDecision, LaterAsk, Refused } from '../http/decision.js';
import type { HttpPermit } from '../http/http-permit.js';
import type { HeaderPair } from '../http/ratelimit-headers.js';
import type { BadVerdict } from './bad-requests.js';
import { hasBody, reserveBody, unreadBodyCloses } from './body-reader.js';
import { BodyInFlight, readThenAdmit } from './body-in-flight.js';
import type { BodyLimits, BodyRefusal, RequestBody } from './body-reader.js';
import { deferredBody, withBody } from './expect-continue.js';
import type { LaterSide } from './expect-continue.js';
import { resetBeforeForward } from './half-close.js';
import type { BodySource } from './expect-continue.js';
import { CLOSE, closeIfPipelined, closeUnread, waitingCount } from './waiting-count.js';
import { canonicalTarget, otherReadings } from './canonical-path.js';
import type { AmbiguousReading } from './canonical-path.js';
import { identityVerdict } from './identity-headers.js';
import { GATEWAY_DEFAULTS } from './defaults.js';
import type { PolicyInstance } from './policy-instance.js';
import { forwardContext } from './forward-context.js';
import { isCapacityRefusal, ratePauseMs } from './refusal-pacer.js';
import { messageVerdict } from './message-checks.js';
import { ALLOWED_METHODS, lingerOnClose, withRetryAfter, writeProblem } from './responses.js';
import { refusalHead } from './refusal-head.js';
import { foreignScheme, hasUserinfo, ownAbsolute, reachedAt, USERINFO_TARGET } from './own-target.js';
import { activePolicy, forwardRoute, shadowed, shadowWait } from './route-hooks.js';
import type { LiveRoute } from './route-table.js';
import { answerLastHop, answerServerOptions } from './max-forwards.js';

export type { GatewayCounters } from './gateway-counters.js';
export { newCounters } from './gateway-counters.js';

import type { HandlerState } from './handler-state.js';
export type { HandlerState } from './handler-state.js';

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
  const malformed = messageVerdict(req, server.maxHeaderSize);
  if (malformed !== undefined) return refuseBad(state, res, malformed);
  // OPTIONS with an absolute-form target whose path and query are empty means `*` (RFC 9112 section 3.2.4).
  if (req.method === 'OPTIONS' && (url === '*' || (/^http:\/\/[^/?#]*$/i.test(url) && ownAbsolute(url, state.ownHost, req) !== undefined))) {
    // A question about this server (RFC 9110 section 9.3.7), not about a resource: answered here (max-forwards.ts).
    const answer = answerServerOptions(req, res, server.maxBodySize);
    return answer === 'answered' ? undefined : refuseBad(state, res, answer);
  }
  if (!url.startsWith('/')) {
    // Absolute form: only for this gateway's own host (RFC 9112 section 3.2.2); never an open proxy.
    if (hasUserinfo(url)) return refuseBad(state, res, USERINFO_TARGET);
    const own = ownAbsolute(url, state.ownHost, req);
    if (own === undefined) {
      if (!URL.canParse(url)) return refuseBad(state, res, badTarget);
      return refuseBad(state, res, foreignScheme(url, state.ownHost, req) ?? foreignTarget);
    }
    url = own.target;
    // Its authority replaces Host (RFC 9112 section 3.2.2): the upstream's X-Forwarded-Host and
    // Forwarded host= name the authority, never a Host header that disagrees (hostile-4).
    req.headers.host = own.authority;
  } else if (req.headers.host === undefined || req.headers.host === '') {
    // HTTP/1.0 without Host (or an empty one): the host the client reached is the address it connected to, not the upstream.
    req.headers.host = reachedAt(req);
  }
  // Routed on the canonical path, and forwarded with it (upstream-dispatch.ts sends req.url): the
  // upstream sees the path the route was chosen for, whatever form the client wrote.
  const canonical = canonicalTarget(url);
  if (!canonical.ok) return refuseBad(state, res, { status: 400, reason: canonical.reason, detail: canonical.detail });
  req.url = canonical.target;
  const path = canonical.path;
  const route = table.match(req.method ?? 'GET', path);
  // Servers that drop segment parameters (/api;x/y), a segment's trailing dots and spaces (/api./x), or apply NFKC
  // (/%EF%BD%81pi/x) would route these as /api/...: refuse a path that such a reading takes to another route.
  for (const [reason, other] of otherReadings(path)) if (table.match(req.method ?? 'GET', other) !== route) return refuseBad(state, res, AMBIGUOUS[reason]);
  if (route === undefined) {
    // An answer about the routes, not a malformed request: the connection is kept (a CORS preflight's request follows).
    const close = unreadBodyCloses(req, server.maxBodySize) ? { Connection: 'close' } : {};
    const allow = table.methodsFor(path);
    if (allow !== undefined) return writeProblem(res, 405, 'method_not_allowed', `No route takes ${req.method ?? ''} on this path; its routes take ${allow.join(', ')}.`, { ...close, Allow: allow.join(', ') });
    return writeProblem(res, 404, 'no_route', 'No route matches this request.', close);
  }
  // TRACE echoes the request (cookies and credentials included) back: only where a route allows it.
  if (req.method === 'TRACE' && !route.config.allowTrace) return refuseBad(state, res, traceRefused, { Allow: ALLOWED_METHODS });
  // OPTIONS or TRACE with Max-Forwards: 0 ends here (max-forwards.ts).
  const lastHop = answerLastHop(route, req, res, route.config.maxBodySize);
  if (lastHop !== 'forward') return lastHop === 'answered' ? undefined : refuseBad(state, res, lastHop);
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
    if (reserved.type === 'reserved') return admit(state, route, policy, req, res, path, deferredBody(res, reserved, limits, (r) => refuseBody(state, route, res, r)));
  }
  // A policy that may refuse decides a body still arriving without waiting for it (body-in-flight.ts);
  // its slot, if it has a concurrency limit, is asked for once the body is in (decideBeforeWork).
  const early = policy !== undefined && !policy.rollout.shadow ? new BodyInFlight() : undefined;
  readThenAdmit(req, res, limits, early, {
    refused: (r) => refuseBody(state, route, res, r),
    gone: () => void state.counters.clientGone++,
    admit: (body) => admit(state, route, policy, req, res, path, body),
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
  else if (r.status === 400) c.bodyChunksTooSmall++;
  else c.bodyMemoryFull++;
  state.rejections.count(route.config.name, r.reason, r.status);
  writeProblem(res, r.status, r.reason, r.detail, r.status === 503 ? { 'Retry-After': String(GATEWAY_DEFAULTS.retryAfterS), Connection: 'close' } : { Connection: 'close' });
}

/** Admission (when the route has a policy for this request), then forwarding. */
function admit(state: HandlerState, route: LiveRoute, policy: PolicyInstance | undefined, req: IncomingMessage, res: ServerResponse, path: string, body: BodySource): void {
  if (policy === undefined) return forwardWith(state, route, req, res, body, undefined);
  let decision: HttpDecision | Promise<HttpDecision>;
  try {
    // The forwarder owns the permit (proxy.ts): the response's close only ends a wait. A body
    // not in hand holds no slot while it comes: its slot is asked for once it is (expect-continue.ts withBody).
    const a = policy.admission;
    const beforeWork = !policy.rollout.shadow && (body instanceof BodyInFlight || 'reserved' in body);
    decision = beforeWork ? a.decideBeforeWork(req, res, route.admission, path) : a.decide(req, res, route.admission, path);
  } catch (err) {
    return admissionFailed(state, route, res, body, err);
  }
  if (!isPromise(decision)) return proceed(state, route, decision, req, res, body);
  if (policy.rollout.shadow) return shadowWait(route, decision, state, res, () => forwardWith(state, route, req, res, body, undefined));
  const waiting = waitingCount(state, route, req, res, body);
  if (!waiting.enter()) {
    // Over the gateway-wide cap on waiting requests: answer at once, and that is all. The
    // response's close aborts the wait; should a gate admit it first, nothing runs.
    waiting.refuseFull();
    decision.then(
      (d) => {
        if (d.type === 'admitted') d.permit.release('ignored');
      },
      (err: unknown) => state.admissionFailures.failed(route.config.name, err),
    );
    return;
  }
  decision.then(
    (d) => {
      waiting.leave();
      if (d.type === 'abandoned') state.counters.leftQueue++;
      if (res.writableEnded) {
        if (d.type === 'admitted') d.permit.release('ignored');
        return;
      }
      proceed(state, route, d, req, res, body);
    },
    (err: unknown) => {
      waiting.leave();
      admissionFailed(state, route, res, body, err);
    },
  );
}

/** An admission that failed (a gate threw, or its wait failed with an error that is no refusal): counted with the route's, answered 500. */
function admissionFailed(state: HandlerState, route: LiveRoute, res: ServerResponse, body: BodySource, err: unknown): void {
  state.admissionFailures.failed(route.config.name, err);
  writeProblem(res, 500, 'admission_failed', 'Admission failed.', closeUnread(state, body, res));
}

const badTarget: BadVerdict = { status: 400, reason: 'bad_target', detail: 'The request target is neither a path starting with / nor an absolute URL of this gateway.' };
const foreignTarget: BadVerdict = { status: 400, reason: 'foreign_target', detail: 'Absolute-form request targets for other hosts are refused: this is not an open proxy.' };
const AMBIGUOUS: Readonly<Record<AmbiguousReading, BadVerdict>> = {
  ambiguous_params: { status: 400, reason: 'ambiguous_params', detail: 'The path has segment parameters (;...) under which servers that drop them would route it to another route.' },
  ambiguous_trailing: {
    status: 400,
    reason: 'ambiguous_trailing',
    detail: 'The path has a segment ending in a dot or a space, under which servers that drop them (IIS, token-trimming matchers) would route it to another route.',
  },
  ambiguous_unicode: {
    status: 400,
    reason: 'ambiguous_unicode',
    detail: 'The path has characters that Unicode compatibility normalization (NFKC) turns into others (such as a fullwidth letter), under which servers that apply it would route it to another route.',
  },
};
const traceRefused: BadVerdict = { status: 405, reason: 'method_not_allowed', detail: 'TRACE is not allowed on this route.' };
const expectationFailed: BadVerdict = { status: 417, reason: 'expectation_failed', detail: 'The only expectation served is Expect: 100-continue.' };

/** A request refused for what it is: counted by reason, answered, and its connection closed. */
function refuseBad(state: HandlerState, res: ServerResponse, v: BadVerdict, headers: Readonly<Record<string, string>> = {}): void {
  state.badRequests.count(v.reason, v.status);
  // What the parser reports about the rest of this connection (a body in a coding it cannot read) is not another request.
  state.badRequests.markAnswered(res.socket ?? res);
  writeProblem(res, v.status, v.reason, v.detail, { ...headers, Connection: 'close' });
}

function proceed(state: HandlerState, route: LiveRoute, d: HttpDecision, req: IncomingMessage, res: ServerResponse, body: BodySource): void {
  if (d.type === 'abandoned') return;
  if (d.type === 'rejected') return shadowed(route, d, state) ? forwardWith(state, route, req, res, body, undefined) : refuse(state, route, d, res, body);
  if (d.type === 'admitted') {
    // Admitted while its body arrives, or before its slot: counted once the body is in and it goes on (a slow uploader is never admitted).
    const late = d.later !== undefined || (body instanceof BodyInFlight && body.outcome?.type !== 'read');
    if (!late) state.counters.admitted++;
    if (state.pacer.maxPauseMs > 0) d.permit.afterRelease = permitEnded(state);
    return forwardWith(state, route, req, res, body, d.permit, d.headers, late, d.later);
  }
  forwardWith(state, route, req, res, body, undefined);
}

/** Per gateway, one function: a permit's end tells the pacer how many wait (not a closure per request). */
const permitEndedOf = new WeakMap<HandlerState, () => void>();

function permitEnded(state: HandlerState): () => void {
  let f = permitEndedOf.get(state);
  if (f === undefined) permitEndedOf.set(state, (f = () => state.pacer.permitEnded(state.queued)));
  return f;
}

/** Forward once the body is read (a deferred one is asked for now: 100 Continue); a body refused then releases the permit. */
function forwardWith(
  state: HandlerState,
  route: LiveRoute,
  req: IncomingMessage,
  res: ServerResponse,
  body: BodySource,
  permit: HttpPermit | undefined,
  headers?: readonly HeaderPair[],
  countAdmitted = false,
  later?: LaterAsk,
): void {
  // A request read with its client's reset right behind it (the kernel hands over the request,
  // then end-of-stream, a read later): admitted at once, it was forwarded before that read.
  // A reset peer has no address (half-close.ts): dropped, never forwarded. A FIN is a client still reading.
  if (resetBeforeForward(req.socket)) {
    // A body still arriving (decided early: body-in-flight.ts) has its reader, which hears the
    // destroy below and counts the request gone (readThenAdmit): counted here too, it was counted
    // twice — the reset reached the kernel between its head's read and its early decision.
    if (!(body instanceof BodyInFlight && body.outcome === undefined)) state.counters.clientGone++;
    permit?.release('ignored');
    return void req.socket.destroy();
  }
  // A body in hand (or none) is forwarded at once, without a continuation.
  if (!('reserved' in body) && !(body instanceof BodyInFlight) && later === undefined) return forwardRoute(route, req, res, body, permit, forwardContext(state, route), headers);
  withBody(req, res, body, permit, uploadGates(route), later, laterSide(state, route, req, res, body, permit), (b, p) => {
    if (countAdmitted) state.counters.admitted++;
    forwardRoute(route, req, res, b, p, forwardContext(state, route), headers);
  });
}

/**
 * How the gates a request asks once its body is in (withBody) end without their permits: each
 * answered as the ask before the body's would be — its refusal rendered by its policy as its
 * own (HttpAdmission.laterRefusal) and answered through `refuse` (counters, Retry-After, drain,
 * pacing, Connection: kept alive, its body read), its failure 500 admission_failed, and a client
 * that left while it waited counted once, as one that left the queue.
 */
function laterSide(state: HandlerState, route: LiveRoute, req: IncomingMessage, res: ServerResponse, body: BodySource, permit: HttpPermit | undefined): LaterSide {
  return {
    ...waitingCount(state, route, req, res, body),
    // Those gates are a policy's, asked for a request it admitted: its permit is there (the one
    // cancelled, whose facts count the rate units given back: a copy when some were set aside).
    refused: (r, cancelled) => refuse(state, route, route.policy!.admission.laterRefusal(r, cancelled ?? permit!), res, body),
    failed: (err) => admissionFailed(state, route, res, body, err),
    left: () => void state.counters.leftQueue++,
    gone: () => void state.counters.clientGone++,
  };
}

/** Per route, the gates whose permits a request gives back while it uploads after 100 Continue (expect-continue.ts). */
const uploadGatesOf = new WeakMap<LiveRoute, readonly Gate[]>();

function uploadGates(route: LiveRoute): readonly Gate[] {
  let gates = uploadGatesOf.get(route);
  if (gates === undefined) {
    const a = route.policy?.admission;
    uploadGatesOf.set(route, (gates = a === undefined ? [] : [...a.extra, ...(a.concurrency === undefined ? [] : [a.concurrency])]));
  }
  return gates;
}

function refuse(state: HandlerState, route: LiveRoute, d: Refused, res: ServerResponse, body: BodySource): void {
  state.counters.rejected++;
  if (d.rejection.reason === 'store_unavailable') state.counters.storeUnavailable++;
  state.rejections.count(route.config.name, d.rejection.reason, d.status);
  if (res.headersSent) return;
  const s = state.draining ? Math.ceil(state.table.config.drain.retryAfterMs / 1000) : GATEWAY_DEFAULTS.retryAfterS;
  let { head, retryS } = refusalHead(d, Math.max(1, s));
  const r = d.rejection;
  const wakeable = isCapacityRefusal(r.reason);
  // A capacity refusal behind a line of paused ones: paused, and told, for the line's length.
  const wait = wakeable && !state.draining ? state.pacer.capacityWait(retryS) : undefined;
  if (wait !== undefined && wait.retryS > retryS) {
    retryS = wait.retryS;
    head = withRetryAfter(head, retryS);
  }
  const socket = res.socket;
  closeIfPipelined(state, res);
  // Decided while its body arrives: the rest is not read on, and the connection lingers, not paused (body-in-flight.ts).
  const unread = closeUnread(state, body, res) === CLOSE;
  if (unread) {
    res.shouldKeepAlive = false;
    lingerOnClose(res);
  }
  res.writeHead(d.status, head);
  res.end(d.body);
  if (state.draining || unread) return;
  // A rate limit knows to the ms when the client's next unit is there (the header rounds it
  // up to whole seconds): pause that long, but not past the moment its bucket is full again
  // (ratePauseMs). A capacity refusal pauses for the line (capacityWait), no longer than the header says.
  const pauseMs = r.reason === 'rate_limited' && Number.isFinite(r.retryAfterMs) ? ratePauseMs(r.retryAfterMs, r.facts?.resetMs) : (wait?.pauseMs ?? retryS * 1000);
  state.pacer.refused(socket, pauseMs, state.table.trusted, wakeable ? (route.policy?.admission.concurrency ?? true) : false);
}
