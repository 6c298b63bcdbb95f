/**
 * One upstream's keep-alive connections: at most `connections` of them, one request on each at
 * a time, and a request handed to a connection the moment one is free.
 *
 * Why not undici's Pool: a Pool marks a connection busy when it takes a request and free only
 * on that connection's 'drain', which undici emits a full event-loop turn after the response
 * completes (`setImmediate` in client-h1's onMessageComplete, before it reuses a connection at
 * pipelining 1). A permit ends at the response's completion and the next admitted request is
 * dispatched a microtask later: the Pool found its connection still busy and opened another.
 * Each slot so used two connections by turns (at `--concurrency 50` under a closed loop the
 * upstream counted 97–101 connections, and with the Pool at its `connections` cap requests
 * waited in it while connections sat free). Here a connection is free as soon as undici reports
 * its request over (onComplete, onError), so the next request takes that same connection: an
 * upstream sees as many connections as it has requests in flight (plus, for a moment, one
 * whose socket was just closed and whose replacement is being opened).
 *
 * A request given a just-freed connection is written after undici's own check of an idle
 * socket (one `setImmediate`, GHSA-35p6-xmwp-9g52), as on any reused connection. Idle
 * connections close at the upstream's `Keep-Alive: timeout` (undici reads it; 4 s without
 * one); the most recently freed connection is taken first, so the idle ones are the ones left
 * to time out, and a connection closed so is opened again (the same Client) when next needed.
 */
import type { Client, Dispatcher } from 'undici';
import { undici } from './peers.js';

/** The longest wait for a connection to the upstream, ms: undici's default, kept as the cap of a longer `timeout`. */
export const CONNECT_TIMEOUT_MS = 10_000;

export interface UpstreamPoolOptions {
  /** At most this many connections (the upstream's `maxSockets`). */
  readonly connections: number;
  /**
   * No response head this long after the request went out: the request fails (a 504), ms. A
   * connect bounds by it too, at most CONNECT_TIMEOUT_MS (undici's own default).
   */
  readonly headersTimeout: number;
  /** A response body silent this long: the request fails, ms. */
  readonly bodyTimeout: number;
}

/** What /status shows of a pool; the names of undici's PoolStats. */
export interface UpstreamPoolStats {
  /** Connections open. */
  readonly connected: number;
  /** Open connections with no request. */
  readonly free: number;
  /** Requests waiting for a connection (every one of `connections` has a request). */
  readonly pending: number;
  /** Requests on a connection. */
  readonly running: number;
}

/** A request on one of the pool's connections: passes undici's calls on, and frees the connection when undici says the request is over. */
class OnConnection implements Dispatcher.DispatchHandler {
  #over = false;
  /** The upstream answered something (a head, interim or final): never sent again. */
  #answered = false;

  constructor(
    readonly pool: UpstreamPool,
    readonly client: Client,
    readonly opts: Dispatcher.DispatchOptions,
    readonly handler: Dispatcher.DispatchHandler,
  ) {}

  onConnect(abort: (err?: Error) => void): void {
    this.handler.onConnect!(abort);
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    this.#answered = true;
    return this.handler.onHeaders!(status, raw, resume, statusText);
  }

  onData(chunk: Buffer): boolean {
    return this.handler.onData!(chunk);
  }

  onComplete(trailers: string[] | null): void {
    this.pool.served(this.client);
    this.#end();
    this.handler.onComplete!(trailers);
  }

  onError(err: Error & { code?: string }): void {
    if (!this.#over && !this.#answered && this.pool.sendAgain(this, err)) return;
    this.#end();
    this.handler.onError!(err);
  }

  // Freed before the handler hears of it: what the handler ends (a permit) may admit a request
  // that needs a connection, and it must find this one free. It is handed on no sooner than a
  // microtask later (#drain, or a grant's promise), after undici's own bookkeeping for this one.
  #end(): void {
    if (this.#over) return;
    this.#over = true;
    this.pool.freed(this.client);
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

/** A request's handler; `abandoned`, when true, says it was given up before it was sent. */
export interface PoolHandler extends Dispatcher.DispatchHandler {
  readonly abandoned?: boolean;
  /**
   * The request left the pool's queue for a connection (one being opened, or a kept-alive one
   * undici checks first): from here only undici can drop it, and it says so — onConnect, where
   * the handler aborts it (which closes that connection), or onError (the connect failed).
   */
  onConnection?(): void;
}

interface Waiting {
  readonly opts: Dispatcher.DispatchOptions;
  readonly handler: PoolHandler;
}

export class UpstreamPool {
  readonly #origin: string;
  readonly #options: UpstreamPoolOptions;
  /** Clients with no request, the most recently freed last (taken first). */
  readonly #idle: Client[] = [];
  /** Every client made (at most `connections`), for destroy(). */
  readonly #clients: Client[] = [];
  /** Requests that found every connection taken, oldest first. */
  readonly #waiting: Waiting[] = [];
  #waitingHead = 0;
  #connected = 0;
  /** Requests each client's current connection has completed: one that did is a kept-alive connection. */
  readonly #served = new WeakMap<Client, number>();
  #drainQueued = false;
  #destroyed = false;
  /** close() was called: no new request; once none waits, every client closes after its own. */
  #closing: (() => void) | undefined;
  /** Settles a close() that waits for the queue, if destroy() empties it first. */
  #destroyedWhileClosing: () => void = () => undefined;

  constructor(origin: string, options: UpstreamPoolOptions) {
    this.#origin = origin;
    this.#options = options;
  }

  /** The most connections this pool opens. */
  get connections(): number {
    return this.#options.connections;
  }

  /** Requests waiting for a connection. */
  get waiting(): number {
    return this.#waiting.length - this.#waitingHead;
  }

  get stats(): UpstreamPoolStats {
    let free = 0;
    for (const c of this.#idle) if (c.stats.connected) free++;
    return { connected: this.#connected, free, pending: this.waiting, running: this.#clients.length - this.#idle.length };
  }

  /** Send one request on a free connection, a new one (below `connections`), or the first to be freed. A failure reaches `handler.onError`. */
  dispatch(opts: Dispatcher.DispatchOptions, handler: PoolHandler): void {
    if (this.#destroyed || this.#closing !== undefined) return void handler.onError!(new Error('the upstream pool is closed'));
    const client = this.waiting === 0 ? this.#take() : undefined;
    if (client === undefined) return void this.#waiting.push({ opts, handler });
    this.#send(client, opts, handler);
  }

  #send(client: Client, opts: Dispatcher.DispatchOptions, handler: PoolHandler): void {
    handler.onConnection?.();
    client.dispatch(opts, new OnConnection(this, client, opts, handler));
  }

  /** A request on `client`'s connection completed. */
  served(client: Client): void {
    this.#served.set(client, (this.#served.get(client) ?? 0) + 1);
  }

  /**
   * An upstream that closes an idle kept-alive connection (its idle timeout shorter than
   * undici's, no `Keep-Alive: timeout` said) races the next request written on it: that request
   * fails with no answer, the upstream never having read it (hostile-27: answered 502). One of
   * an idempotent method, on a connection that had served a request, is sent once more, on the
   * same client (its connection opened anew), which stays taken meanwhile. Once only: its served
   * count is set to 0 here, and the new connection serves nothing before it (the client is taken). A microtask later:
   * undici is still closing the old connection when it reports the error.
   */
  sendAgain(on: OnConnection, err: Error & { code?: string }): boolean {
    if (this.#destroyed || !closedUnder(err) || !IDEMPOTENT.has(on.opts.method) || (this.#served.get(on.client) ?? 0) === 0) return false;
    this.#served.set(on.client, 0);
    queueMicrotask(() => on.client.dispatch(on.opts, new OnConnection(this, on.client, on.opts, on.handler)));
    return true;
  }

  /**
   * A client's request is over (OnConnection): it takes the next waiting request, or waits
   * itself. One whose request failed or was aborted (its socket closed, to be opened again) is
   * taken first: the request a freed slot lets in next then goes on a new connection, opened
   * after the old one's reset, so an upstream learns of the old request's end no later than it
   * accepts the new connection — and reads the new request after that. On a connection kept
   * idle it could read both in one poll and count the two at once (cutfix).
   */
  freed(client: Client): void {
    if (this.#destroyed) return;
    this.#idle.push(client);
    if (this.waiting > 0 && !this.#drainQueued) {
      this.#drainQueued = true;
      queueMicrotask(() => this.#drain());
    }
  }

  /** No new requests; those waiting and running are served, then every connection closes. */
  close(): Promise<void> {
    const closeAll = (): Promise<void> => Promise.all(this.#clients.map((c) => c.close())).then(() => undefined);
    if (this.waiting === 0) {
      this.#closing = () => undefined;
      return closeAll();
    }
    return new Promise<void>((resolve, reject) => {
      this.#closing = () => void closeAll().then(resolve, reject);
      this.#destroyedWhileClosing = resolve;
    });
  }

  /** Fail what waits and close every connection now; a close() still waiting for the queue settles with it. */
  destroy(): Promise<void> {
    this.#destroyed = true;
    const left = this.#waiting.splice(0).slice(this.#waitingHead);
    this.#waitingHead = 0;
    for (const w of left) w.handler.onError!(new Error('the upstream pool is closed'));
    this.#idle.length = 0;
    const done = Promise.all(this.#clients.map((c) => c.destroy())).then(() => undefined);
    // The queue it waited for is gone: #drain will not run to call it.
    void done.then(this.#destroyedWhileClosing);
    return done;
  }

  #take(): Client | undefined {
    const idle = this.#idle.pop();
    if (idle !== undefined) return idle;
    if (this.#clients.length >= this.#options.connections) return undefined;
    const client = new (undici().Client)(this.#origin, {
      pipelining: 1,
      headersTimeout: this.#options.headersTimeout,
      bodyTimeout: this.#options.bodyTimeout,
      // A connect that never completes (SYNs dropped: a host gone, a full accept queue) held the
      // slot for undici's 10 s whatever the upstream's timeout said (hostile-27).
      connectTimeout: Math.min(this.#options.headersTimeout, CONNECT_TIMEOUT_MS),
    });
    client.on('connect', () => {
      this.#connected++;
      this.#served.set(client, 0);
    });
    client.on('disconnect', () => this.#connected--);
    this.#clients.push(client);
    return client;
  }

  #drain(): void {
    this.#drainQueued = false;
    while (this.waiting > 0 && !this.#destroyed) {
      // One given up while it waited is dropped here: handed to a connection, undici would
      // close that connection to drop it (its abort destroys the socket).
      const w = this.#waiting[this.#waitingHead]!;
      const dropped = w.handler.abandoned === true;
      const client = dropped ? undefined : this.#take();
      if (!dropped && client === undefined) return;
      this.#waitingHead++;
      // Taken from the front by an index; the array is cut down once its taken part is the larger.
      if (this.#waitingHead === this.#waiting.length) {
        this.#waiting.length = 0;
        this.#waitingHead = 0;
      } else if (this.#waitingHead > 64 && this.#waitingHead * 2 > this.#waiting.length) {
        this.#waiting.splice(0, this.#waitingHead);
        this.#waitingHead = 0;
      }
      if (client === undefined) w.handler.onError!(new Error('abandoned'));
      else this.#send(client, w.opts, w.handler);
    }
    if (this.waiting === 0) this.#closing?.();
  }
}
