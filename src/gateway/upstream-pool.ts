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
import type { buildConnector, Client, Dispatcher } from 'undici';
import { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { undici } from './peers.js';
import { mayResend, OnConnection, Trip } from './upstream-trip.js';
import type { PoolHandler, TripPool } from './upstream-trip.js';

/** The longest wait for a connection to the upstream, ms: undici's default, kept as the cap of a longer `timeout`. */
export const CONNECT_TIMEOUT_MS = 10_000;

export interface UpstreamPoolOptions {
  /** At most this many connections (the upstream's `maxSockets`). */
  readonly connections: number;
  /**
   * No final response head this long after the request was given to the pool (dispatch): the
   * request fails (a 504), ms — a wait for a free connection, the connect, a resend and the wait
   * for the head together (upstream-trip.ts). undici's connect timeout is set to it too, at most
   * CONNECT_TIMEOUT_MS (undici's own default).
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

export type { PoolHandler } from './upstream-trip.js';

export class UpstreamPool implements TripPool {
  readonly #origin: string;
  readonly #options: UpstreamPoolOptions;
  /** Clients with no request, the most recently freed last (taken first). */
  readonly #idle: Client[] = [];
  /** Every client made (at most `connections`), for destroy(). */
  readonly #clients: Client[] = [];
  /** Requests that found every connection taken, oldest first. */
  readonly #waiting: Trip[] = [];
  #waitingHead = 0;
  #connected = 0;
  /** Requests each client's current connection has completed: one that did is a kept-alive connection. */
  readonly #served = new WeakMap<Client, number>();
  /** When each client's last request ended (performance.now()): how long its connection then sat idle. */
  readonly #freedAt = new WeakMap<Client, number>();
  /** Each client's socket while it is being opened (its connector's), for cutConnect(). */
  readonly #opening = new WeakMap<Client, Socket>();
  #drainQueued = false;
  /** Clients retired and not yet replaced: a request takes a new client for each, not an idle one (retire()). */
  #fresh = 0;
  #destroyed = false;
  /** close() was called: no new request; once none waits, every client closes after its own. */
  #closing: (() => void) | undefined;
  /** Settles a close() that waits for the queue, if destroy() empties it first. */
  #destroyedWhileClosing: () => void = () => undefined;

  constructor(origin: string, options: UpstreamPoolOptions) {
    this.#origin = origin;
    this.#options = options;
    // Loaded now, not by the first request's connection: its deadline (from its dispatch) would
    // count the module's load, 300 ms and more on a busy host.
    undici();
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
    const trip = new Trip(this, opts, handler, this.#options.headersTimeout);
    const client = this.waiting === 0 ? this.#take() : undefined;
    if (client === undefined) return void this.#waiting.push(trip);
    this.#send(trip, client);
  }

  /** `trip` on `client`: a kept-alive connection's idle time goes with it (a stale one's request may be sent again). */
  #send(trip: Trip, client: Client): void {
    const freedAt = this.#freedAt.get(client);
    const idleMs = freedAt !== undefined && (this.#served.get(client) ?? 0) > 0 ? performance.now() - freedAt : undefined;
    const on = new OnConnection(trip, client, idleMs);
    trip.handler.onConnection?.(on);
    client.dispatch(trip.opts, on);
  }

  /** A trip that waited for a connection past its deadline: out of the queue (rare: a splice). */
  unqueue(trip: Trip): void {
    const i = this.#waiting.indexOf(trip, this.#waitingHead);
    if (i >= 0) this.#waiting.splice(i, 1);
    if (this.waiting === 0) {
      this.#waiting.length = 0;
      this.#waitingHead = 0;
      this.#closing?.();
    }
  }

  /** A request on `client`'s connection completed. */
  served(client: Client): void {
    this.#served.set(client, (this.#served.get(client) ?? 0) + 1);
  }

  /**
   * An upstream that closes an idle kept-alive connection (its idle timeout shorter than
   * undici's, no `Keep-Alive: timeout` said) races the next request written on it: that request
   * fails with no answer, the upstream never having read it (hostile-27: answered 502). One of
   * an idempotent method, on a connection that had served a request and then sat idle
   * STALE_IDLE_MS or more, is sent once more (mayResend), on the same client (its connection
   * opened anew), which stays taken meanwhile; a fresh connection's, or a connection's reused
   * sooner, is not: the upstream closed it at that request, a query of death sent again would
   * crash it twice. Once only: the resend's attempt has no idle time (the client is taken), and its
   * served count is set to 0 here. Within the trip's one deadline. A microtask later: undici is
   * still closing the old connection when it reports the error.
   */
  sendAgain(on: OnConnection, err: Error & { code?: string }): boolean {
    if (this.#destroyed || !mayResend(on, this.#served.get(on.client) ?? 0, err)) return false;
    this.#served.set(on.client, 0);
    const again = new OnConnection(on.trip, on.client, undefined);
    on.handler.onResend?.(err);
    queueMicrotask(() => on.client.dispatch(on.trip.opts, again));
    return true;
  }

  /**
   * A client's request is over (OnConnection): it takes the next waiting request, or waits
   * itself. One whose request failed (its socket closed, to be opened again) is taken first, as
   * a retired one's replacement is (retire()): the request a freed slot lets in next then goes
   * on a new connection, opened after the old one's reset, so an upstream learns of the old request's end no later than it
   * accepts the new connection — and reads the new request after that. On a connection kept
   * idle it could read both in one poll and count the two at once (cutfix).
   */
  freed(client: Client): void {
    if (this.#destroyed) return;
    this.#freedAt.set(client, performance.now());
    this.#idle.push(client);
    if (this.waiting > 0 && !this.#drainQueued) {
      this.#drainQueued = true;
      queueMicrotask(() => this.#drain());
    }
  }

  /**
   * `client`'s request was aborted (OnConnection): its connection is closed, and the client is
   * dropped — destroyed a microtask later, once undici is out of its abort (destroyed, it does
   * not connect again for the aborted request). The next request takes a new client in its
   * place, not an idle connection: it is written on a connection opened after the old one's
   * close, so an upstream learns of the aborted request's end no later than it accepts the
   * connection that brings the next one (cutfix; freed() below).
   */
  retire(client: Client): void {
    const i = this.#clients.indexOf(client);
    if (i < 0) return;
    this.#clients.splice(i, 1);
    this.#fresh++;
    queueMicrotask(() => void client.destroy().catch(() => undefined));
    if (this.waiting > 0 && !this.#drainQueued && !this.#destroyed) {
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
    for (const w of left) {
      w.settle();
      w.handler.onError!(new Error('the upstream pool is closed'));
    }
    this.#idle.length = 0;
    const done = Promise.all(this.#clients.map((c) => c.destroy())).then(() => undefined);
    // The queue it waited for is gone: #drain will not run to call it.
    void done.then(this.#destroyedWhileClosing);
    return done;
  }

  /**
   * A client for a request: a new one for each client retired since (#fresh), while there is
   * room, else the most recently freed, else a new one (below `connections`).
   */
  #take(): Client | undefined {
    const room = this.#clients.length < this.#options.connections;
    if (room && (this.#fresh > 0 || this.#idle.length === 0)) {
      if (this.#fresh > 0) this.#fresh--;
      return this.#open();
    }
    return this.#idle.pop();
  }

  /**
   * Cut `client`'s connect under way (a request's deadline passed while its connection was being
   * opened: OnConnection.timeOut): its socket is destroyed with `err`, which undici reports as the
   * connect's failure to the request on it (whose deadline it is: no other waits on the client).
   * False: no connect is under way (the connection is open, or the connector gave no socket).
   */
  cutConnect(client: Client, err: Error): boolean {
    const socket = this.#opening.get(client);
    if (socket === undefined || socket.destroyed) return false;
    socket.destroy(err);
    return true;
  }

  #open(): Client {
    // A connect that never completes (SYNs dropped: a host gone, a full accept queue) held the
    // slot for undici's 10 s whatever the upstream's timeout said (hostile-27): its own timeout is
    // the upstream's, a backstop to the request's deadline, which cuts it (cutConnect).
    const connector = undici().buildConnector({ timeout: Math.min(this.#options.headersTimeout, CONNECT_TIMEOUT_MS) });
    const connect = (opts: buildConnector.Options, callback: buildConnector.Callback): unknown => {
      // undici's connector returns the socket it opens (its type says void): kept while it opens.
      const socket: unknown = connector(opts, callback);
      if (socket instanceof Socket) {
        this.#opening.set(client, socket);
        const opened = (): void => void (this.#opening.get(client) === socket && this.#opening.delete(client));
        // A TLS socket is open at its handshake's end: until then the deadline may cut it too.
        socket.once(socket instanceof TLSSocket ? 'secureConnect' : 'connect', opened).once('close', opened);
      }
      return socket;
    };
    const client: Client = new (undici().Client)(this.#origin, { pipelining: 1, headersTimeout: this.#options.headersTimeout, bodyTimeout: this.#options.bodyTimeout, connect });
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
      if (client === undefined) {
        w.settle();
        w.handler.onError!(new Error('abandoned'));
      } else this.#send(w, client);
    }
    if (this.waiting === 0) this.#closing?.();
  }
}
