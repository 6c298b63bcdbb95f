/**
 * Connections over `server.maxConnections` get an answer, not a silent close. node:net's own
 * `maxConnections` closes an extra connection as it accepts it: the client sees a reset or an
 * empty reply, indistinguishable from a crash, and retries at once. Here the cap is kept in
 * front of node:http instead: a connection over it gets a fixed 503 (`connections_full`,
 * `Retry-After`, `Connection: close`) written straight to its socket — no parser, nothing of
 * its request read but to throw it away — and the connection closes.
 *
 * nginx and HAProxy at their connection limits stop accepting: connections wait in the
 * kernel's accept queue until one frees (and are dropped by the kernel when it overflows).
 * Node cannot stop accepting without closing the listener, whose close resets that whole
 * queue; an answer is the next best thing, a client (or balancer) told to retry later.
 *
 * Bounded cost, so that a connection flood cannot spend the gateway's CPU or descriptors
 * through it: the answer is one shared buffer written once; the connection lingers after it
 * (the client's request read and thrown away: closing a socket with unread bytes sends a
 * reset, which makes the client's kernel throw away the answer it had not read yet — the
 * lingering close of nginx and Apache) until the client closes its side, `LINGER_BYTES` came,
 * or `LINGER_MS` passed. At most `REFUSING` connections linger at once: past them node:net's
 * own `maxConnections` (set to the cap plus them) closes the extras at accept, as before —
 * counted apart (`dropped`). file-limit.ts keeps descriptors for them.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { rawProblem } from './responses.js';

/** Connections over the cap answered and lingering at once, at most. */
export const REFUSING = 64;
/** How long a refused connection lingers for its client to close, at most, ms. */
const LINGER_MS = 1_000;
/** How much of a refused client's bytes are read and thrown away, at most. */
const LINGER_BYTES = 64 * 1024;
/** The Retry-After of the answer, s. */
const RETRY_AFTER_S = 1;

const ANSWER = Buffer.from(rawProblem(503, 'connections_full', 'The gateway holds as many connections as it may: retry later.', { 'Retry-After': String(RETRY_AFTER_S) }), 'latin1');

export type OverLimit = 'refused' | 'dropped';

export class ConnectionLimit {
  /** Connections served now: handed to node:http. */
  #open = 0;
  #refusing = 0;
  #limit: number;
  readonly #counted: (outcome: OverLimit) => void;
  readonly #lingerMs: number;

  /** `lingerMs`: how long a refused connection may linger, at most (a test's knob). */
  constructor(limit: number, counted: (outcome: OverLimit) => void, lingerMs = LINGER_MS) {
    this.#limit = limit;
    this.#counted = counted;
    this.#lingerMs = lingerMs;
  }

  /** Connections served now. */
  get open(): number {
    return this.#open;
  }

  /** Connections over the cap answered and not closed yet (lingering). */
  get refusing(): number {
    return this.#refusing;
  }

  /**
   * Cap `server` at `limit` served connections (and node:net's own check at `limit` +
   * REFUSING: the lingering ones). On reload too.
   */
  apply(server: Server, limit: number): void {
    this.#limit = limit;
    server.maxConnections = limit + REFUSING;
  }

  /**
   * Put the cap in front of every 'connection' listener of `server` (node:http's own among
   * them): call it once they are all added, before the server listens.
   */
  attach(server: Server): void {
    const served = server.listeners('connection') as ((this: Server, socket: Socket) => void)[];
    server.removeAllListeners('connection');
    const closed = (): void => void this.#open--;
    server.on('connection', (socket: Socket) => {
      if (this.#open >= this.#limit) return this.#refuse(socket);
      this.#open++;
      socket.once('close', closed);
      for (const l of served) l.call(server, socket);
    });
    server.on('drop', () => this.#counted('dropped'));
  }

  #refuse(socket: Socket): void {
    this.#counted('refused');
    this.#refusing++;
    socket.on('error', ignore);
    const timer = setTimeout(() => socket.destroy(), this.#lingerMs);
    let read = 0;
    socket.on('data', (chunk: Buffer) => {
      read += chunk.length;
      if (read > LINGER_BYTES) socket.destroy();
    });
    // The client closed its side (it read the answer, or gave up): nothing is left to linger for.
    socket.once('end', () => socket.destroy());
    socket.once('close', () => {
      this.#refusing--;
      clearTimeout(timer);
    });
    socket.end(ANSWER);
  }
}

function ignore(): void {}
