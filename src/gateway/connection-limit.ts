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
 * lingering close of nginx and Apache) until the client closes its side or `LINGER_MS` passed;
 * past `LINGER_BYTES` read it is paused, not cut (a reset would throw the answer away too), as
 * every lingering close of the gateway is (responses.ts lingerAfterEnd). At most `REFUSING` connections linger at once, and at most
 * `ANSWERS_PER_S` are answered per second (an answer costs ~3x a close at accept: 78 µs of CPU
 * against 26, `npm run bench:connection-flood`, quiet host; so a flood spends at most ~8% of a
 * core on answers): past
 * either, node:net's own `maxConnections` (the cap plus the lingering ones; the cap alone
 * for the rest of a second whose answers are spent) closes the extras at accept, as before —
 * counted apart (`dropped`). file-limit.ts keeps descriptors for the lingering ones.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { LINGER_MS, lingerAfterEnd, rawProblem } from './responses.js';

/** Connections over the cap answered and lingering at once, at most. */
export const REFUSING = 64;
/** Connections over the cap answered per second, at most. */
export const ANSWERS_PER_S = 1_000;
/** The Retry-After of the answer, s. */
const RETRY_AFTER_S = 1;

// Rendered once, so undated (a 503 may go without a Date; a stale one would be wrong).
const ANSWER = Buffer.from(rawProblem(503, 'connections_full', 'The gateway holds as many connections as it may: retry later.', { 'Retry-After': String(RETRY_AFTER_S) }, false), 'latin1');

export type OverLimit = 'refused' | 'dropped';

export class ConnectionLimit {
  /** Connections served now: handed to node:http. */
  #open = 0;
  #refusing = 0;
  #limit: number;
  readonly #counted: (outcome: OverLimit) => void;
  readonly #lingerMs: number;
  readonly #answersPerS: number;
  readonly #now: () => number;
  #server: Server | undefined;
  /** Answers left in the current second, and when it began (ms, `now`). */
  #answers: number;
  #second = -Infinity;

  /** `options`: test knobs — the linger, the answers per second, the clock of that second (ms). */
  constructor(limit: number, counted: (outcome: OverLimit) => void, options: { lingerMs?: number; answersPerS?: number; now?: () => number } = {}) {
    this.#limit = limit;
    this.#counted = counted;
    this.#lingerMs = options.lingerMs ?? LINGER_MS;
    this.#answersPerS = options.answersPerS ?? ANSWERS_PER_S;
    this.#answers = this.#answersPerS;
    this.#now = options.now ?? Date.now;
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
    this.#server = server;
    server.maxConnections = limit + (this.#answers > 0 ? REFUSING : 0);
  }

  /** A new second gives the answers back (called on a refusal, and on a close at accept while they are spent). */
  #renew(): void {
    const now = this.#now();
    if (now - this.#second < 1000) return;
    this.#second = now;
    if (this.#answers === 0 && this.#server !== undefined) this.#server.maxConnections = this.#limit + REFUSING;
    this.#answers = this.#answersPerS;
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
    server.on('drop', () => {
      this.#counted('dropped');
      if (this.#answers === 0) this.#renew();
    });
  }

  #refuse(socket: Socket): void {
    this.#renew();
    if (this.#answers === 0) {
      // Spent already (node:net had accepted it before the cap came down): closed, as at accept.
      this.#counted('dropped');
      socket.destroy();
      return;
    }
    // The second's last answer: node:net closes the rest at accept until a new one.
    if (--this.#answers === 0 && this.#server !== undefined) this.#server.maxConnections = this.#limit;
    this.#counted('refused');
    this.#refusing++;
    socket.once('close', () => void this.#refusing--);
    socket.end(ANSWER);
    // Closed when the client closes its side (it read the answer, or gave up) or resets, else after the linger.
    lingerAfterEnd(socket, this.#lingerMs);
  }
}
