/**
 * A body still arriving when its request is decided (body429). The body is read before it may
 * hold a slot (body-reader.ts), but the decision need not wait for it: until body429 a client
 * its rate limit refused uploaded its whole body first (50 MB at its own pace) and was told
 * 429 only then, and the gateway read every byte of it for nothing. HAProxy and nginx answer
 * as soon as they have decided.
 *
 * So a request whose body has not come whole with its head (by the turn after its head was
 * parsed: a small body comes in the same read, and is read and decided as before), under any
 * policy (not a shadow rollout's), asks its policy at once, while the body goes on arriving —
 * without a slot (HttpAdmission.decideBeforeWork: the concurrency gate only says whether it would
 * refuse now what no wait could spare, and never cuts a slow reader for an upload not in):
 * - refused: the refusal is written then, with `Connection: close` — the rest of the body is
 *   not read on to reach a next request, and one pipelined behind it is not served — and the
 *   connection lingers (responses.ts lingerOnClose: LINGER_BYTES read and dropped at most, for
 *   LINGER_MS at most) so that a client that sends its body before it reads sees the answer
 *   rather than a reset;
 * - admitted: it is forwarded once the body is in (expect-continue.ts withBody: a breaker's
 *   permit set aside meanwhile and asked again, then the concurrency gate asked for a slot);
 * - the body refused first (413, 408, 503 body_memory_full) is answered as before, and the
 *   decision, when it comes, finds the response ended and gives its permit back.
 * Until early429 a policy with a concurrency limit or breaker was not asked early: asked for a
 * slot, a full gate would cut a slow reader (slow-readers.ts) for a slot the upload gave back at once.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody } from './body-reader.js';
import type { BodyLimits, BodyOutcome, BodyRefusal, RequestBody } from './body-reader.js';
import type { Hold } from './memory-budget.js';

export class BodyInFlight {
  /** How the read ended; undefined while the body arrives. */
  outcome: BodyOutcome | undefined = undefined;
  /** Whether the request was put to its policy before its body was in. */
  asked = false;
  #waiter: ((outcome: BodyOutcome) => void) | undefined = undefined;

  /** The read ended. */
  settle(outcome: BodyOutcome): void {
    if (this.outcome !== undefined) return;
    this.outcome = outcome;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.(outcome);
  }

  /** `then` with the read's outcome, now or when it comes (one waiter: the forwarder). */
  wait(then: (outcome: BodyOutcome) => void): void {
    if (this.outcome !== undefined) then(this.outcome);
    else this.#waiter = then;
  }
}

/** Whether an answer to `res`'s request now leaves part of its body unread (`body`: what the request was decided with). */
export function bodyUnread(body: object, res: ServerResponse): boolean {
  return body instanceof BodyInFlight && !res.req.complete;
}

/** What reading a body then deciding its request needs of the gateway. */
export interface BodyThenAdmission {
  /** Answer a body refused as it is read (413, 408, 400, 503 body_memory_full). */
  refused(r: BodyRefusal): void;
  /** Its client left before any answer. */
  gone(): void;
  /** Put the request to its policy with its body, read or still arriving. */
  admit(body: RequestBody | BodyInFlight): void;
}

/**
 * Read `req`'s body, then `on.admit` it — or, with `early` (the request has a policy that may
 * refuse), at once when the body has not come whole by the turn after its head was parsed.
 */
export function readThenAdmit(req: IncomingMessage, res: ServerResponse, limits: BodyLimits, early: BodyInFlight | undefined, on: BodyThenAdmission): void {
  readBody(req, res, limits, (outcome) => {
    // Given back when the upstream has it (proxy.ts), or with the response in any case.
    if (outcome.type === 'read' && outcome.body.hold !== undefined) res.once('close', () => (outcome.body.hold as Hold).release());
    const asked = early?.asked === true;
    early?.settle(outcome);
    // Closed before any answer: its client left (not a drain's 503 to an upload still arriving).
    if (outcome.type === 'gone') return void (res.writableEnded || on.gone());
    // Decided while it arrived: a refusal written then is the request's only answer.
    if (outcome.type === 'refused') return void (asked && res.headersSent ? undefined : on.refused(outcome.refusal));
    if (!asked) on.admit(outcome.body);
  });
  if (early === undefined) return;
  setImmediate(() => {
    // A body that came with its head is in by now (parsed in the same read): decided as before.
    if (early.outcome !== undefined || req.complete || res.writableEnded) return;
    early.asked = true;
    on.admit(early);
  });
}
