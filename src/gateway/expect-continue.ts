/**
 * `Expect: 100-continue`: the client sends its head and waits to be told to send its body
 * (RFC 9110 section 10.1.1). Told at once — node:http's default — a client the gateway then
 * refuses has uploaded its body for nothing (hostile finding F15). So such a request is
 * judged before the 100 goes out: its declared size and memory (body-reader.ts's
 * reserveBody: 413, 503), then its admission (429/503 with Retry-After); only a request that
 * is admitted (or goes on without a policy) is told to continue, and its body is read then,
 * within the same size, time and memory bounds as any other. A refusal goes out instead of
 * the 100, and node:http closes the connection after it (the client may send the body anyway).
 *
 * A slot is still for upstream work, never for an upload (hostile finding F15b): decided
 * before its body (HttpAdmission.decideBeforeWork), the request takes no concurrency slot —
 * the gate only says whether it would refuse now what no wait could spare, and never cuts a
 * slow reader for it (until early429 it took a slot, cutting one if need be, and gave it back
 * at the 100) — and asks for a slot once its body is in, waiting in the queue like any
 * request; its rate-limit units are spent then, and given back if that later ask refuses it (or fails,
 * or finds the gateway's waiting requests at their cap: HttpPermit.cancel), as when a later gate of
 * the chain refuses — kept spent for a body refused or a client that left. Sixty clients trickling bodies after a 100
 * Continue held every slot of a route before F15b (a well-behaved client there: 0.8/s). Refused then (the capacity filled while it
 * uploaded), it gets the concurrency gate's 503, answered as any refusal by it (request-handler.ts laterSide). So with the further gates (a breaker): a
 * half-open breaker's probe held through an upload kept the breaker half-open, every other
 * request refused circuit_open, for as long as the client took to send nothing (bodyTimeout;
 * hostile-15) — it is given back too, and asked for again, before the slot, once the body is in.
 *
 * Given back and asked for again (a breaker's), it is still one admission: the permits are set aside
 * (GatePermit.setAside: capacity back, no release counted, no sample for an adaptive limit)
 * and asked for again as the same request (ADMITTED_AGAIN: no second admission counted or
 * told), so a gate's admitted and released counts and its events say one of each per request,
 * as the upstream and counters.admitted do. Until expect-once the gate counted two grants, the
 * first released 'ignored'. A request that does not get its place back (refused, or its
 * client left) has its set-aside release counted then, 'ignored'.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ADMITTED_AGAIN, GatePermit, isPromise } from '../core/gate-base.js';
import type { Admission, AdmissionContext, Gate, Permit, Rejection } from '../core/types.js';
import type { LaterAsk } from '../http/decision.js';
import { HttpPermit } from '../http/http-permit.js';
import { hasBody, readBody } from './body-reader.js';
import type { BodyLimits, BodyOutcome, BodyRefusal, BodyReservation, RequestBody } from './body-reader.js';
import { BodyInFlight } from './body-in-flight.js';
import { listElements } from './header-lists.js';

/**
 * What an Expect header asks (RFC 9110 section 10.1.1), read as the list it is (section 5.6.1:
 * empty elements count for nothing): 'none' for no element (`Expect:` empty, `Expect: ,`), 'continue'
 * for 100-continue alone, however often listed, 'other' for anything else (417). node:http's
 * checkExpectation and checkContinue events match a regex: an empty Expect was 417, and
 * `100-continue, 100-continue` too (hostile-13).
 */
export function expectationOf(value: string | undefined): 'none' | 'continue' | 'other' {
  let asked: 'none' | 'continue' = 'none';
  for (const e of listElements(value ?? '')) {
    if (e !== '100-continue') return 'other';
    asked = 'continue';
  }
  return asked;
}

/**
 * What `req`'s Expect asks, for node:http's checkContinue and checkExpectation events. A request
 * without a body (no Transfer-Encoding; no Content-Length, or 0) asking 100-continue has nothing
 * to wait for (RFC 9110 section 10.1.1: a server may omit the 100 when the framing says there is
 * no content): 'none', served as any request on a connection kept alive. node:http closes a
 * connection whose 100-continue went unanswered (the client may still send a body it held back),
 * and a bodiless GET asking it closed its keep-alive connection, a request pipelined behind it
 * never answered (gateway-edges).
 */
export function expectationAsked(req: IncomingMessage, res: ServerResponse): 'none' | 'continue' | 'other' {
  const asked = expectationOf(req.headers.expect);
  if (asked !== 'continue' || hasBody(req)) return asked;
  // node:http's own mark of a 100-continue to answer (set before its checkContinue event).
  (res as ServerResponse & { _expect_continue?: boolean })._expect_continue = false;
  return 'none';
}

/** A body not read yet, its checks passed and its memory held: the client waits for 100 Continue. */
export interface DeferredBody {
  readonly reserved: BodyReservation;
  readonly limits: BodyLimits;
  /** Answer a body refused while it is read (too large once chunked, too slow, no memory). */
  readonly refuse: (r: BodyRefusal) => void;
}

/**
 * The gateway's count of requests waiting for admission (request-handler.ts): a slot asked for
 * once the body is in that must wait enters it as any request's ask does — `enter` false when
 * `server.maxQueued` wait already, and the request is answered then (`refuseFull`) — and leaves it when its wait ends.
 */
export interface WaitingCount {
  enter(): boolean;
  leave(): void;
  refuseFull(): void;
}

/**
 * The gateway's side of the gates a request asks once its body is in (request-handler.ts): its
 * place among the waiting requests, and how that ask ends when it does not go on — each answered
 * as the gateway answers the ask before the body: a gate's refusal as that gate's refusals are
 * (`refused`), a gate that threw or whose wait failed with an error that is no refusal 500
 * admission_failed (`failed`), a client that left while it waited counted so (`left`), or
 * one gone before its ask (`gone`). Until expectlater a failure went unanswered (its client waited
 * for its own timeout), a refusal had a rendering of its own, and a client that left went uncounted.
 */
export interface LaterSide extends WaitingCount {
  /** `permit`: the request's, cancelled — its facts count the units given back (HttpPermit.allFacts). */
  refused(r: Rejection, permit: HttpPermit | undefined): void;
  failed(err: unknown): void;
  left(): void;
  gone(): void;
}

/** How a later ask ended: its permits; a refusal; a failure; its client left while it waited, or was gone at the ask; or undefined, answered already (queue_full at the cap). */
type AskEnd = readonly Permit[] | Rejection | { readonly failed: unknown } | 'left' | 'gone' | undefined;

/** What a request is forwarded with: its body read, one to ask for once it may go on, or one still arriving (body-in-flight.ts). */
export type BodySource = RequestBody | DeferredBody | BodyInFlight;

/** Responses whose client waits for a 100 Continue not sent yet: admission comes first (held-timeouts.ts reads it). */
const awaiting = new WeakSet<ServerResponse>();

/** Responses whose 100 Continue was held back for admission and has been sent: their body is read within bodyTimeout of the 100. */
const continued = new WeakSet<ServerResponse>();

/**
 * Whether `res`'s request is on the gateway's terms rather than requestTimeout's: its client waits
 * for the held-back 100 Continue, or sends its body after it (read within bodyTimeout of the 100).
 */
export const bodyAfterContinue = (res: ServerResponse): boolean => awaiting.has(res) || (continued.has(res) && !res.req.complete);

/** A deferred body for `res`'s request; its memory is given back with the response whatever happens. */
export function deferredBody(res: ServerResponse, reserved: BodyReservation, limits: BodyLimits, refuse: (r: BodyRefusal) => void): DeferredBody {
  res.once('close', () => reserved.hold.release());
  awaiting.add(res);
  return { reserved, limits, refuse };
}

/**
 * Call `go` with the body and the permit to forward with: at once when the body was read;
 * for a deferred one, once the client was told to continue and sent it; for one still
 * arriving (body-in-flight.ts), once it is in. When `permit` holds permits of `upload` — the
 * gates whose hold is on the upstream's capacity: the further gates (a breaker) and the
 * concurrency gate — they are set aside while the body comes, and asked again, in order, once
 * it is in; so are the gates of `later` (decideBeforeWork: the concurrency gate, never asked
 * yet), with its context, even for a body in hand. A body refused while it is read (or whose
 * client leaves) releases what the permit still holds as `ignored`, and `go` is never called;
 * a deferred one's refusal is answered here, one in flight's by its reader. So does an ask of
 * those gates that does not end in their permits, told to `side` (LaterSide).
 */
export function withBody(
  req: IncomingMessage,
  res: ServerResponse,
  source: BodySource,
  permit: HttpPermit | undefined,
  upload: readonly Gate[],
  later: LaterAsk | undefined,
  side: LaterSide,
  go: (body: RequestBody, permit: HttpPermit | undefined) => void,
): void {
  const inHand = source instanceof BodyInFlight ? (source.outcome?.type === 'read' ? source.outcome.body : undefined) : 'reserved' in source ? undefined : source;
  if (inHand !== undefined && later === undefined) return go(inHand, permit);
  if (res.destroyed) {
    permit?.release('ignored');
    return;
  }
  // Those permits go back while the client uploads (none with the body in hand); the rest of the permit is kept.
  const given = permit === undefined || inHand !== undefined ? [] : permit.permits.filter((p) => upload.some((g) => g.name === p.gate));
  const again = [...upload.filter((g) => given.some((p) => p.gate === g.name)), ...(later?.gates ?? [])];
  const kept = given.length === 0 ? permit : sameOwner(permit!, permit!.permits.filter((p) => !given.includes(p)));
  for (const p of given) setAside(p);
  // Those that did not come back for their place: their releases are counted now.
  const settle = (): void => {
    for (const p of given) if (p instanceof GatePermit) p.settleAside();
  };
  const read = (outcome: BodyOutcome): void => {
    if (outcome.type === 'read') {
      if (again.length === 0) return go(outcome.body, kept);
      // Only a gate whose permit was set aside is asked as the same request.
      const same = new Set(given.filter((p) => p instanceof GatePermit).map((p) => p.gate));
      return admitAgain(res, again, same, later?.context ?? {}, side, [], (a) => {
        if (Array.isArray(a)) return go(outcome.body, kept === undefined ? kept : sameOwner(kept, [...kept.permits, ...(a as readonly Permit[])]));
        settle();
        // Refused (or failed, or at the gateway's cap): its rate units go back, as a refusal's do. A client gone keeps them spent.
        if (a === 'left' || a === 'gone') kept?.release('ignored');
        else kept?.cancel();
        endedWithout(a as Exclude<AskEnd, readonly Permit[]>, side, kept);
      });
    }
    settle();
    kept?.release('ignored');
    if (outcome.type === 'refused' && 'reserved' in source) source.refuse(outcome.refusal);
  };
  if (inHand !== undefined) return read({ type: 'read', body: inHand });
  if (source instanceof BodyInFlight) return source.wait(read);
  if (!('reserved' in source)) return;
  awaiting.delete(res);
  continued.add(res);
  res.writeContinue();
  readBody(req, res, source.limits, read, source.reserved);
}

/** Tell `side` how a later ask ended without its permits (undefined: answered already); `permit`, the request's. */
function endedWithout(a: Exclude<AskEnd, readonly Permit[]>, side: LaterSide, permit: HttpPermit | undefined): void {
  if (a === 'left') side.left();
  else if (a === 'gone') side.gone();
  else if (a !== undefined) {
    if ('failed' in a) side.failed(a.failed);
    else side.refused(a, permit);
  }
}

/** `permit`'s request, with `permits` (some set aside, or more granted): its end still tells its owner (afterRelease). */
function sameOwner(permit: HttpPermit, permits: readonly Permit[]): HttpPermit {
  const p = new HttpPermit(permit.gate, permits, permit.allFacts, permit.classify);
  p.afterRelease = permit.afterRelease;
  return p;
}

/**
 * Permits of `gates` for `res`'s request, in order (`got`: those granted so far), waiting in
 * a gate's queue if it has one — counted in `waiting`, and refused there when it is full: all of
 * them, or how the ask ended without them (AskEnd; the permits granted given back).
 */
function admitAgain(
  res: ServerResponse,
  gates: readonly Gate[],
  same: ReadonlySet<string>,
  context: AdmissionContext,
  waiting: WaitingCount,
  got: readonly Permit[],
  done: (a: AskEnd) => void,
): void {
  if (got.length === gates.length) return done(got);
  // One granted as the same request (uncounted) is given back uncounted too.
  const back = (p: Permit): void => (same.has(p.gate) ? setAside(p) : p.release('ignored'));
  const giveBack = (): void => {
    for (const p of got) back(p);
  };
  const controller = new AbortController();
  const onClose = (): void => controller.abort();
  res.once('close', onClose);
  // `waited`: it waited in a gate's queue (a client gone meanwhile left the queue).
  const settle = (a: Admission | Exclude<AskEnd, readonly Permit[] | Rejection>, waited = false): void => {
    res.off('close', onClose);
    const admitted = a !== undefined && typeof a === 'object' && 'ok' in a && a.ok;
    if (admitted && res.destroyed) back(a);
    if (!admitted || res.destroyed) giveBack();
    // A client gone is gone whatever the gate said (a refusal to it is written nowhere).
    if (res.destroyed) return done(waited ? 'left' : 'gone');
    if (!admitted) return done(a as Exclude<AskEnd, readonly Permit[]>);
    admitAgain(res, gates, same, context, waiting, [...got, a], done);
  };
  let a: Admission | Promise<Admission>;
  try {
    const gate = gates[got.length]!;
    a = gate.admit(same.has(gate.name) ? ({ ...context, signal: controller.signal, [ADMITTED_AGAIN]: true } as AdmissionContext) : { ...context, signal: controller.signal });
  } catch (err) {
    return settle({ failed: err });
  }
  if (!isPromise(a)) return settle(a);
  if (!waiting.enter()) {
    // As many wait as the gateway holds: this ask is given up (granted meanwhile, given back) and the request answered.
    controller.abort();
    a.then((late) => void (late.ok ? back(late) : undefined), () => undefined);
    waiting.refuseFull();
    return settle(undefined);
  }
  a.then(
    (got) => {
      waiting.leave();
      settle(got, true);
    },
    (err: unknown) => {
      waiting.leave();
      // Aborted: its client left (the response's close); anything else is the gate's failure.
      settle(controller.signal.aborted ? 'left' : { failed: err }, true);
    },
  );
}

/** Give `p`'s capacity back uncounted (its request goes on as the same admission); a permit of another kind of gate, released 'ignored'. */
function setAside(p: Permit): void {
  if (p instanceof GatePermit) p.setAside();
  else p.release('ignored');
}
