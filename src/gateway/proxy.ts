/**
 * Forwarding one admitted request (its body read whole before admission: body-reader.ts) to
 * its upstream and the response back, on an UpstreamPool (upstream-pool.ts) through undici's
 * dispatch API: one handler object per request, handed to it by forward() (upstream-dispatch.ts).
 *
 * The response is read at the upstream's pace, not the client's: its bytes go to the client
 * as fast as the client takes them, and what the client has not taken yet is held, up to
 * `server.responseBuffer` per response (and `server.responseMemory` for all of them). So:
 * - a response that fits is read whole however slowly its client reads, and the permit ends
 *   when it is complete — service time is the upstream's;
 * - a larger one fills the buffer, and then the upstream waits for the client: it is still
 *   writing the response, so the request is still in flight there, and the permit (its slot)
 *   is kept until the upstream's response is complete — the upstream never has more in flight
 *   than the limit (until upin21 the permit ended when the buffer filled). Such a response
 *   yields its slot to a request that wants one, its connection to one waiting for it: it is
 *   cut off (slow-readers.ts), as its client is gone (below);
 * - a client that, while bytes are pending for it, takes nothing for `server.writeTimeout`
 *   or less than `server.minReadRate` per second over it (read-rate.ts) is disconnected, and
 *   is gone (below).
 *
 * The forwarder owns the request's permit (sluice/http's `decide`) and ends it once:
 * - no response headers within the upstream's `timeout` is 504, a connection error before
 *   the response 502: 'dropped', so the adaptive limit sees a drop and the breaker a failure;
 * - a failure after the headers went out (the upstream resets, or is silent past
 *   `idleTimeout`) can only cut the response: 'dropped' for a silence, 'failure' for a reset;
 * - a client that goes away is not the upstream's doing: the permit ends 'ignored' (no
 *   sample, no failure), so clients that hang up cannot open the breaker or cut the limit.
 *   But not while the upstream may still be working on the request: an abort does not stop
 *   an upstream that already has it (it works on, whether or not its connection is still
 *   there), so a slot given back then would let one request too many into it. A request not
 *   sent yet is dropped at once. One sent is left to answer, and the rest of its response is
 *   read and thrown away within a bound (leftover.ts): the permit ends when the response is
 *   complete, fails or times out, or the bound is passed (then the connection is closed).
 */
import type { ServerResponse } from 'node:http';
import type { PoolHandler, UpstreamPool } from './upstream-pool.js';
import type { ForwardContext } from './forward-context.js';
import type { HttpPermit } from '../http/http-permit.js';
import type { HeaderPair } from '../http/ratelimit-headers.js';
import type { RequestBody } from './body-reader.js';
import { declaredLength, responseHead, statesTransferCoding, withoutLength, writeRelayedHead } from './forward-headers.js';
import type { Hold } from './memory-budget.js';
import type { CutReason } from './slow-readers.js';
import { relayInterim } from './interim-responses.js';
import { Leftover } from './leftover.js';
import { watchDrain, watchForwarded } from './forwarded-response.js';
export type { ForwardContext } from './forward-context.js';
import { describe, failureOf, reasonPhraseFault, transferCodingFault, type UpstreamFailure, writeFailure, writeHeadTooLarge } from './upstream-failures.js';

/** One request's trip upstream and back: undici's dispatch handler (upstream-dispatch.ts hands it to undici). */
export class Forwarding implements PoolHandler {
  #abort: ((err?: Error) => void) | undefined;
  /** undici is writing (or wrote) the request upstream: the upstream may be working on it. */
  #sent = false;
  /** The rest of a response whose client is gone, read and thrown away within a bound. */
  #leftover: Leftover | undefined;
  /** Cut for its slot or connection (slow-readers.ts): says when that is free. */
  #freed: (() => void) | undefined;
  #rest = NaN; // body bytes still to come by the response's Content-Length (NaN: none stated)
  /** The response started (headers written) or the request ended another way. */
  #settled = false;
  #clientGone = false;
  /** The pool handed the request to a connection (UpstreamPool: onConnection); undici has it until onConnect or onError. Gives it up there. */
  #onConnection: { drop(err: Error): void } | undefined;
  #resume: (() => void) | undefined;
  /** The upstream is paused: the client has not taken what is held for it. */
  #paused = false;
  #status = 0;
  /** The response's head (name, value, ...) until it is written: with the first body bytes, or the end. */
  #head: string[] | undefined;
  #statusText = '';
  /** fail() answered (502/504): what undici reports after that is the abort it asked for. */
  #failed = false;
  /** Response bytes held for the client (the part of them beyond its socket's own buffer). */
  #held: Hold | undefined;
  /** Watched by ctx.readWatch while bytes are pending for the client: ends that. */
  #unwatch: (() => void) | undefined;
  /** Registered with ctx.slowReaders while the upstream waits for the client: ends that. */
  #unlist: (() => void) | undefined;
  /** Listening for the response's 'drain' (from its first write the socket did not take at once). */
  #drainWatched = false;
  /** Counted once as a response that outgrew its buffer (`counters.slowReadersHeld`). */
  #heldCounted = false;

  constructor(
    readonly pool: UpstreamPool,
    readonly res: ServerResponse,
    readonly permit: HttpPermit | undefined,
    readonly ctx: ForwardContext,
    readonly own: readonly HeaderPair[],
    readonly body: RequestBody,
  ) {
    watchForwarded(res, this);
  }

  /** Given up on before undici sent it (UpstreamPool drops it from its queue: PoolHandler). */
  get abandoned(): boolean {
    return !this.#sent && (this.#clientGone || this.#failed);
  }

  /** UpstreamPool: the request is on a connection (being opened, or checked by undici), no longer in the pool's queue. */
  onConnection(attempt: { drop(err: Error): void }): void {
    this.#onConnection = attempt;
  }

  clientGone(): void {
    if (this.#clientGone) return;
    this.#clientGone = true;
    this.#settled = true;
    // Sent, its slot held: the upstream works on it (an abort would not stop that) or sends its
    // response, left to answer and read out within a bound (leftover.ts), the slot held until then.
    if (this.#sent && this.permit !== undefined && !this.permit.released && !this.#failed) return this.#status === 0 ? undefined : this.#readOut();
    // On a connection and not sent yet: a connect under way is cut, and undici fails the request
    // (onError ends its permit then, a few ticks from now); an open connection drops it at
    // onConnect (closing that connection). Given back before that, its slot let in a request that,
    // finding no free connection, opened one beside the one still opening for this: one connection
    // more than the limit at the upstream (upstream-connections.test.ts). Until gwedge the connect
    // was left to end (open, or undici's connect timeout), the slot held all that while.
    if (this.#onConnection !== undefined && !this.#sent && !this.#failed) return this.#onConnection.drop(new Error('client closed'));
    // Otherwise no connection is kept for it: in the pool's queue (which drops it, abandoned), or with no slot to hold.
    this.#abort?.(new Error('client closed'));
    this.#releaseGone();
    this.body.hold?.release();
  }

  /** The client is gone, the response under way: read on (the upstream no longer waits for the client), within the bound — if its rest is known to be over it, not at all. */
  #readOut(): void {
    if (this.#rest > this.ctx.responseBuffer) return this.#giveUp();
    this.#leftover ??= new Leftover(this.ctx.responseBuffer, () => this.#giveUp());
    if (!this.#paused) return;
    this.#paused = false;
    this.#resume?.();
  }

  /** Past the bound: the upstream connection is closed (at once: undici destroys the socket), and the slot goes back. */
  #giveUp(): void {
    this.#abort?.(new Error('client closed'));
    this.#releaseGone();
  }

  /** The request of a client that is gone is over, for the upstream: its permit ends ('ignored'), and a cut's slot or connection is free. */
  #releaseGone(): void {
    this.#leftover?.end();
    this.permit?.release('ignored');
    this.#freed?.();
    this.#freed = undefined;
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort;
    // Given up on before undici got to it (client gone, or failed here): never sent.
    if (this.#clientGone || this.#failed) {
      abort(new Error('abandoned'));
      return;
    }
    this.#sent = true;
  }

  /** Its kept-alive connection closed under it, stale: the pool sends it again on a new one (upstream-trip.ts). */
  onResend(err: Error & { code?: string }): void {
    this.ctx.onUpstreamResend(describe(err));
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    // Three digits outside 100-599: no HTTP status (RFC 9110 section 15). Below 100 undici
    // passes it on as a 1xx and then fails an assertion of its own, which read as a connection
    // error; above 599 (a client SHOULD read it as a 5xx) it was relayed as it came (hostile-13).
    if (status < 100 || status > 599) {
      if (this.#clientGone) this.#releaseGone();
      else this.fail('invalid', `a status of ${status}`);
      this.#abort?.(new Error('invalid status'));
      return false;
    }
    // 102, 103: relayed to an HTTP/1.1 client (interim-responses.ts; a 100 never comes here). They
    // do not put the upstream's `timeout` off: the pool's deadline runs to the final head (upstream-trip.ts).
    if (status < 200) {
      if (!this.#clientGone && !this.#settled) relayInterim(this.res, status, statusText, raw, this.ctx.responseBuffer);
      return true;
    }
    // A 204 or 304 stating a transfer coding (RFC 9112 section 6.1: never on a 204; on a 304, the
    // 200's): a body its upstream meant by it may come after the head, where the next request
    // on the connection read it as its response (hostile-10). Answered now, the connection closed.
    const closeAfter = (status === 204 || status === 304) && statesTransferCoding(raw);
    this.#rest = declaredLength(raw);
    if (this.#clientGone) {
      // Nobody to relay it to: read on (and throw away) until the upstream is done, within the bound.
      this.#status = status;
      this.body.hold?.release();
      if (closeAfter) return this.#endThenClose();
      this.#readOut();
      return true;
    }
    if (this.#settled) return false;
    // One node:http would not write (it threw in the relay: a silent close, hostile-10) is invalid,
    // and so is a body in a coding the client would not be told of (one without a body has none to relay).
    const bodiless = status === 204 || status === 304 || this.res.req.method === 'HEAD';
    const badReason = reasonPhraseFault(statusText) ?? (bodiless ? undefined : transferCodingFault(raw));
    if (badReason !== undefined) return (this.fail('invalid', badReason), false);
    this.#settled = true;
    // The upstream has the whole request: its body's memory goes back.
    this.body.hold?.release();
    this.#resume = resume;
    this.#status = status;
    // Written with the first body bytes or the end, as node:http would send it anyway: until
    // then an upstream failure is still answered 502/504 (hostile-6: a head then a reset was a
    // silent close for the client). A 204 has no body and must not state a length (RFC 9110
    // section 8.6): one it states is not relayed.
    const head = responseHead(raw, this.own);
    this.#head = status === 204 ? withoutLength(head) : head;
    this.#statusText = statusText;
    return closeAfter ? this.#endThenClose() : true;
  }

  /** The response is complete at its head: ended here, and its upstream connection closed (the abort's error is not a failure). */
  #endThenClose(): boolean {
    this.onComplete();
    this.#failed = true;
    this.#abort?.(new Error('no reuse after a 204 or 304 stating a transfer coding'));
    return false;
  }

  /** The response's head, from onHeaders, into the response (node:http sends it with what follows). */
  #writeHead(): void {
    const head = this.#head;
    if (head === undefined) return;
    this.#head = undefined;
    writeRelayedHead(this.res, this.#status, this.#statusText, head);
  }

  onData(chunk: Buffer): boolean {
    this.#rest -= chunk.length;
    if (this.#clientGone) {
      if (this.#leftover?.took(chunk.length) === true && this.permit?.released === false) return true;
      // Past the bound, for nobody: its connection is closed, then the slot goes back.
      this.#giveUp();
      return false;
    }
    this.#writeHead();
    const res = this.res;
    if (res.write(chunk)) return true;
    // The client's socket is backed up: hold what it has not taken, up to the buffer. Its
    // 'drain' (listened for from the first write it did not take at once) lets go of that.
    if (!this.#drainWatched) {
      this.#drainWatched = true;
      watchDrain(res);
    }
    this.#watchWrites();
    this.#held ??= this.ctx.responseMemory.hold();
    const pending = res.writableLength;
    if (pending < this.ctx.responseBuffer && this.#held.resize(pending)) return true;
    // Full: from here the upstream waits for the client, the request still in flight there:
    // the permit is kept. Its slot goes to a request that wants one, its connection to one
    // waiting for it, should any (slow-readers.ts).
    this.#paused = true;
    if (!this.#heldCounted) {
      this.#heldCounted = true;
      this.ctx.onSlowReader('held');
    }
    const gate = this.permit !== undefined && !this.permit.released ? this.ctx.slotGate : undefined;
    this.#unlist ??= this.ctx.slowReaders?.waiting(this.pool, gate, (why, freed) => this.#cut(why, freed));
    return false;
  }

  onComplete(): void {
    // The upstream's part is done: its slot goes back now, not once the relay to the client
    // has drained (what a client does with the response is not the upstream's load).
    this.#unlist?.();
    this.#unlist = undefined;
    if (this.#clientGone) return this.#releaseGone();
    this.permit?.finish(this.#status);
    // A 431 with no body (node:http's for a head over its limit): the client is told why.
    if (this.#status === 431 && this.#head !== undefined) return writeHeadTooLarge(this.res, this.#head);
    this.#writeHead();
    this.res.end();
  }

  onError(err: Error & { code?: string }): void {
    // Given up on here (fail() aborts the upstream request, which lands here too): already ended.
    if (this.#failed) return;
    if (this.#clientGone) {
      // The upstream request ended (failed, timed out, or aborted here): nothing of it runs on for this permit.
      this.#releaseGone();
      this.body.hold?.release();
      return;
    }
    // A 204 or 304 has no body whatever its Content-Length says (a 304 may state the length a
    // 200 would have): undici reads it as a body to come, and fails the response complete as it
    // is (hostile-6: the connection was cut, and the client got nothing).
    if ((this.#status === 204 || this.#status === 304) && err.code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') return this.onComplete();
    const res = this.res;
    const kind = failureOf(err);
    if (this.#settled && this.#head !== undefined) {
      // After the head, before any of the body: nothing has gone out, the client can be told.
      this.#head = undefined;
      this.#settled = false;
    }
    if (this.#settled) {
      // Mid-body: the client sees a truncated response (its Content-Length or chunking tells it).
      this.permit?.release(kind === 'timeout' ? 'dropped' : 'failure');
      this.ctx.onUpstreamFailure(kind, describe(err));
      res.destroy();
      return;
    }
    this.fail(kind, describe(err));
  }

  /** Answer the client 502 (504 for a timeout) with the failure's reason, if nothing went out yet. */
  fail(kind: UpstreamFailure, error?: string): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#failed = true;
    this.#abort?.(new Error(kind));
    this.body.hold?.release();
    this.permit?.release('dropped');
    this.ctx.onUpstreamFailure(kind, error);
    const res = this.res;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.setHeader('Connection', 'close');
    for (const [name, value] of this.own) res.setHeader(name, value);
    writeFailure(res, kind, error);
  }

  /** The client took everything pending: hold nothing, and let the upstream go on. */
  drained(): void {
    this.#held?.resize(0);
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#unlist?.();
    this.#unlist = undefined;
    if (this.#paused && !this.#clientGone) {
      this.#paused = false;
      this.#resume?.();
    }
  }

  /**
   * Cut off while the upstream waits for the client (slow-readers.ts), for its slot or its
   * connection: the client is disconnected, the rest of the response read out, and `freed`
   * says when the permit ended ('ignored': not the upstream's doing) and the connection is free.
   */
  #cut(why: CutReason, freed: () => void): void {
    this.#unlist = undefined;
    this.#freed = freed;
    if (why === 'slot') this.ctx.onSlowReader('cut');
    this.clientGone();
    // Gone before (abandonForwarding), its permit ended: nothing will call `freed` later — free now.
    if (this.#freed !== undefined && (this.permit === undefined || this.permit.released)) this.#releaseGone();
    this.res.destroy();
  }

  /** While bytes are pending, the client must keep up with them (read-rate.ts), or it is cut off. */
  #watchWrites(): void {
    this.#unwatch ??= this.ctx.readWatch.watch(this.res, () => {
      this.#unwatch = undefined;
      this.ctx.onSlowReader('write-timeout');
      this.res.destroy();
    });
  }

  /** The response finished or closed: nothing more is held or watched for it. */
  done(): void {
    this.#unlist?.();
    this.#unlist = undefined;
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.#held?.release();
  }
}
