/**
 * `Expect: 100-continue`: the client sends its head and waits to be told to send its body
 * (RFC 9110 section 10.1.1). Told at once — node:http's default — a client the gateway then
 * refuses has uploaded its body for nothing (hostile finding F15). So such a request is
 * judged whole before the 100 goes out: its declared size and memory (body-reader.ts's
 * reserveBody: 413, 503), then its admission (429/503 with Retry-After); only a request that
 * is admitted (or goes on without a policy) is told to continue, and its body is read then,
 * within the same size, time and memory bounds as any other. A refusal goes out instead of
 * the 100, and node:http closes the connection after it (the client may send the body anyway).
 *
 * The cost, by the client's own choice: its permit is held while its body arrives (at most
 * `server.bodyTimeout`, then 408 and the permit goes back `ignored`). Without the expectation
 * a body is read before admission, and a slow uploader holds no slot.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpPermit } from '../http/http-permit.js';
import { readBody } from './body-reader.js';
import type { BodyLimits, BodyRefusal, BodyReservation, RequestBody } from './body-reader.js';

/** A body not read yet, its checks passed and its memory held: the client waits for 100 Continue. */
export interface DeferredBody {
  readonly reserved: BodyReservation;
  readonly limits: BodyLimits;
  /** Answer a body refused while it is read (too large once chunked, too slow, no memory). */
  readonly refuse: (r: BodyRefusal) => void;
}

/** What a request is forwarded with: its body read, or one to ask for once it may go on. */
export type BodySource = RequestBody | DeferredBody;

/** A deferred body for `res`'s request; its memory is given back with the response whatever happens. */
export function deferredBody(res: ServerResponse, reserved: BodyReservation, limits: BodyLimits, refuse: (r: BodyRefusal) => void): DeferredBody {
  res.once('close', () => reserved.hold.release());
  return { reserved, limits, refuse };
}

/**
 * Call `go` with the body: at once when it was read; for a deferred one, once the client was
 * told to continue and sent it. A deferred body refused while it is read (or whose client
 * leaves) releases `permit` as `ignored`, and `go` is never called.
 */
export function withBody(req: IncomingMessage, res: ServerResponse, source: BodySource, permit: HttpPermit | undefined, go: (body: RequestBody) => void): void {
  if (!('reserved' in source)) return go(source);
  if (res.destroyed) {
    permit?.release('ignored');
    return;
  }
  res.writeContinue();
  readBody(
    req,
    source.limits,
    (outcome) => {
      if (outcome.type === 'read') return go(outcome.body);
      permit?.release('ignored');
      if (outcome.type === 'refused') source.refuse(outcome.refusal);
    },
    source.reserved,
  );
}
