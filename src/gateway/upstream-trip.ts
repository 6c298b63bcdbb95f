/**
 * One request's way through an UpstreamPool (upstream-pool.ts), from the moment it is given to
 * the pool to its final response head (a Trip), and each attempt of it on a connection
 * (OnConnection: at most two, the second a resend on a new connection).
 *
 * The upstream's `timeout` bounds the whole trip: a wait for a free connection, the connect, a
 * resend, the wait for the head. Before, each part had a timer of its own — the connect bounded by
 * `timeout` (cd2e37d), then undici's headers timer starting again at the request's write, and
 * none for a wait in the pool — so an upstream slow to accept and slow to answer was waited for
 * up to twice `timeout`. undici's own timers stay (its connect timeout, its headers timer from
 * the write): they start later and run no shorter, so they are a backstop that this one precedes
 * — a connect under way included, which the deadline cuts (OnConnection.timeOut).
 * The deadline is stall-aware, as undici's fast timer was: run late after a stall of the loop, its
 * verdict waits until the sockets are read, so a head that came during the stall is taken, not
 * timed out. Put off to the next timers phase, not to setImmediate as core/stall-aware.ts does:
 * undici's abort closes the connection, and the request its slot admits opens another (its
 * client retired: OnConnection.onConnect; before, undici itself connected again for the aborted
 * request); from the check phase that connect came before any poll phase, and an upstream in this process accepted the new
 * connection before it read the old one's close — one over the limit
 * (test/gateway/upstream-connections.test.ts, 5 runs in 8). From a timers phase, a poll phase
 * comes between them, as it did from undici's own headers timer.
 */
import type { Client, Dispatcher } from 'undici';
import { performance } from 'node:perf_hooks';
import { LATE_MS } from '../core/stall-aware.js';

/**
 * A kept-alive connection idle this long or longer before a request went on it may have been
 * closed for idleness as the request went out, ms: only on such a connection is a request whose
 * connection closed under it sent again. An upstream that closes idle connections has let one
 * idle its whole idle timeout (gunicorn's 2 s, Node's 5 s, nginx's 75 s); a connection reused
 * sooner that closes at a request was closed by that request — a query of death (a crash, a
 * worker killed), which sent again crashes the upstream twice.
 */
export const STALE_IDLE_MS = 1_000;

/** A request's handler; `abandoned`, when true, says it was given up before it was sent. */
export interface PoolHandler extends Dispatcher.DispatchHandler {
  readonly abandoned?: boolean;
  /**
   * The request left the pool's queue for a connection (one being opened, or a kept-alive one
   * undici checks first): from here only undici can drop it, and it says so — onConnect, where
   * the handler aborts it (which closes that connection), or onError (the connect failed).
   * `attempt.drop(err)` gives it up there (its client left): a connect under way is cut, and
   * undici fails the request with `err` (onError); an open connection drops it at onConnect.
   */
  onConnection?(attempt: { drop(err: Error): void }): void;
  /** The request is sent again on a new connection, its kept-alive one having closed under it (`err`): for counts and logs. */
  onResend?(err: Error & { code?: string }): void;
}

/** The upstream's `timeout` ran out before the final response head (no undici code: the pool's own deadline). */
export class UpstreamTimeoutError extends Error {
  override readonly name = 'UpstreamTimeoutError';
  readonly code = 'UPSTREAM_TIMEOUT';
}

/** What a trip needs of its pool. */
export interface TripPool {
  /** The most connections the pool opens. */
  readonly connections: number;
  /** A request on `client`'s connection completed. */
  served(client: Client): void;
  /** `client`'s request is over: the connection is free. */
  freed(client: Client): void;
  /** `client`'s request was aborted, its connection closed: the client is dropped, never connected again. */
  retire(client: Client): void;
  /** Cut `client`'s connect under way with `err` (undici fails the request on it with it); false: none is under way. */
  cutConnect(client: Client, err: Error): boolean;
  /** Send `on`'s request once more, on a new connection, after `err`; false: it is not to be. */
  sendAgain(on: OnConnection, err: Error & { code?: string }): boolean;
  /** A trip still waiting for a connection ran out of time: out of the queue. */
  unqueue(trip: Trip): void;
}

/** A request from its dispatch to the pool until the handler hears its final head or its end. */
export class Trip {
  readonly #start = performance.now();
  #deadline: ReturnType<typeof setTimeout> | undefined;
  /** The attempt on a connection, once it has one. */
  on: OnConnection | undefined;

  constructor(
    readonly pool: TripPool,
    readonly opts: Dispatcher.DispatchOptions,
    readonly handler: PoolHandler,
    readonly timeoutMs: number,
  ) {
    this.#deadline = setTimeout(() => this.#due(), timeoutMs);
  }

  /** The final head came, or the handler heard the end: the deadline is off. */
  settle(): void {
    if (this.#deadline === undefined) return;
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
  }

  /** Run late (the loop stalled past the deadline): judged in the next timers phase, after the sockets are read. */
  #due(): void {
    if (performance.now() - this.#start - this.timeoutMs > LATE_MS) this.#deadline = setTimeout(() => this.#expire(), 0);
    else this.#expire();
  }

  #expire(): void {
    this.#deadline = undefined;
    const on = this.on;
    if (on !== undefined) return on.timeOut(this.#error(on.phase()));
    this.pool.unqueue(this);
    this.handler.onError!(this.#error(`no connection was free (all ${this.pool.connections} in use)`));
  }

  #error(phase: string): UpstreamTimeoutError {
    return new UpstreamTimeoutError(`${phase} within the upstream's timeout, ${this.timeoutMs} ms from the request's dispatch (${Math.round(performance.now() - this.#start)} ms ago)`);
  }
}

/**
 * A request on one of the pool's connections: passes undici's calls on, and frees the connection
 * when undici says the request is over. `idleMs`: how long the kept-alive connection had been
 * idle when the request went on it (undefined: a new connection, or a resend).
 */
export class OnConnection implements Dispatcher.DispatchHandler {
  #over = false;
  /** The upstream answered something (a head, interim or final): never sent again. */
  #answered = false;
  /** undici's abort for this request, from onConnect: it is being written, or was. */
  #abort: ((err?: Error) => void) | undefined;
  /** Given up while the connection was being opened (its deadline, its client gone): the request is aborted at onConnect. */
  #dropped: Error | undefined;
  /** Aborted here (its connection closed by undici): its client is retired, not freed (#end). */
  #cut = false;

  constructor(
    readonly trip: Trip,
    readonly client: Client,
    readonly idleMs: number | undefined,
  ) {
    trip.on = this;
  }

  get handler(): PoolHandler {
    return this.trip.handler;
  }

  /** Whether its connection had served requests and then sat idle long enough to be closed for it (STALE_IDLE_MS). */
  get stale(): boolean {
    return this.idleMs !== undefined && this.idleMs >= STALE_IDLE_MS;
  }

  /** Where the request stands, for a timeout's message. */
  phase(): string {
    if (this.#abort !== undefined) return 'no response head came';
    return this.client.stats.connected ? 'the request was not sent' : 'the connection did not open';
  }

  /**
   * The trip's deadline passed: a request being written (or written) is aborted, its connection
   * closed, and the handler hears the error. One whose connection is still being opened has that
   * connect cut (its socket destroyed: the pool's connector keeps it), and undici fails the
   * request with `err`: the whole trip is within `timeout`, and nothing goes on opening for a
   * request already answered. Until session 29 undici could not be made to drop a connect under
   * way, and such a request waited for the connect's own timeout (`timeout` from the connect's
   * start): up to twice `timeout` for one that had waited for a free connection
   * (test/gateway/upstream-connect-deadline.test.ts). One whose connection is open and not yet
   * written to (undici's check of an idle socket, a loop turn) is aborted at onConnect.
   */
  timeOut(err: Error): void {
    if (this.#over) return;
    if (this.#abort !== undefined) return this.#abort(err);
    this.drop(err);
  }

  /**
   * Give up the request before it is written (its deadline, or its client gone: PoolHandler's
   * onConnection): a connect under way is cut (the pool's connector keeps its socket) and undici
   * fails the request with `err`; an open connection undici still checks drops it at onConnect.
   * Until gwedge a client that left while its connection was being opened held its slot until
   * that connect ended (test/gateway/upstream-connect-client-gone.test.ts).
   */
  drop(err: Error): void {
    if (this.#over || this.#abort !== undefined || this.#dropped !== undefined) return;
    this.#dropped = err;
    this.trip.pool.cutConnect(this.client, err);
  }

  /**
   * undici's `abort` closes the connection; for a request it has written, its socket-close
   * handler (client-h1.js onHttpSocketClose, which skips an 'aborted' error) then puts the
   * request back as pending, and the Client connects again for it only to drop it: a connection
   * opened for nobody at each abort (test/gateway/upstream-abort-reconnect.test.ts). So an
   * aborted request's client is retired (the pool destroys it), and the next request takes
   * another. An abort once the request is over is nothing: its client may be another's by then.
   */
  onConnect(abort: (err?: Error) => void): void {
    const cut = (err?: Error): void => {
      if (this.#over) return;
      this.#cut = true;
      abort(err);
    };
    if (this.#dropped !== undefined) return cut(this.#dropped);
    this.#abort = cut;
    this.handler.onConnect!(cut);
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    this.#answered = true;
    // Interim heads (1xx) do not stop the deadline: undici restarts its headers timer at each.
    if (status >= 200) this.trip.settle();
    return this.handler.onHeaders!(status, raw, resume, statusText);
  }

  onData(chunk: Buffer): boolean {
    return this.handler.onData!(chunk);
  }

  onComplete(trailers: string[] | null): void {
    this.trip.pool.served(this.client);
    this.#end();
    this.trip.settle();
    this.handler.onComplete!(trailers);
  }

  onError(err: Error & { code?: string }): void {
    if (this.#dropped === undefined && !this.#over && !this.#answered && this.trip.pool.sendAgain(this, err)) return;
    this.#end();
    this.trip.settle();
    this.handler.onError!(err);
  }

  // Freed before the handler hears of it: what the handler ends (a permit) may admit a request
  // that needs a connection, and it must find this one free. It is handed on no sooner than a
  // microtask later (#drain, or a grant's promise), after undici's own bookkeeping for this one.
  #end(): void {
    if (this.#over) return;
    this.#over = true;
    if (this.#cut) this.trip.pool.retire(this.client);
    else this.trip.pool.freed(this.client);
  }
}

/**
 * Methods a request of which may be sent again after its connection closed under it with no
 * answer (RFC 9110 section 9.2.2; RFC 9112 section 9.3.1: never a non-idempotent one, which the
 * upstream may have acted on).
 */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** A kept-alive connection closed as the request went out: undici's 'other side closed', a reset, a write to a closed socket. */
function closedUnder(err: Error & { code?: string }): boolean {
  return (err.code === 'UND_ERR_SOCKET' && err.message === 'other side closed') || err.code === 'ECONNRESET' || err.code === 'EPIPE';
}

/**
 * Whether `on`'s request, failed with `err` before any answer, may be sent again: an idempotent
 * method whose connection closed under it, that connection stale — it had served `served`
 * requests (its count since it was opened: a connection opened for this request has 0) and sat
 * idle STALE_IDLE_MS or more before this one.
 */
export function mayResend(on: OnConnection, served: number, err: Error & { code?: string }): boolean {
  return closedUnder(err) && IDEMPOTENT.has(on.trip.opts.method) && served > 0 && on.stale;
}
