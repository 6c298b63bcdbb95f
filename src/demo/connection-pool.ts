/**
 * The load generator's HTTP/1.1 client: keep-alive connections over node:net, one request
 * at a time per connection, and a response reader that keeps only what the measurement
 * needs (status, whether Retry-After came, where the body ends). node:http's client costs
 * about three times as much CPU per request; at 20,000 requests/s that is the difference
 * between measuring the server and measuring the generator.
 */
import { connect } from 'node:net';
import type { Socket } from 'node:net';

/** How a request ended: an answer (status, Retry-After present) or a connection error. */
export type Outcome = { readonly status: number; readonly retryAfter: boolean } | { readonly error: string };

interface Waiter {
  readonly start: (c: Conn) => void;
  abandoned: boolean;
}

interface Conn {
  readonly socket: Socket;
  lastUsed: number;
  /** The request on this connection, if any. */
  done: ((o: Outcome) => void) | undefined;
  buf: Buffer;
  /** Parsed head of the response being read. */
  status: number;
  retryAfter: boolean;
  /** Body bytes still to skip (content-length), -1 while reading the head, -2 chunked, -3 until close. */
  remaining: number;
  close: boolean;
}

/** Idle connections older than this are closed rather than reused (servers close idle keep-alive sockets after ~5 s). */
const MAX_IDLE_MS = 3000;
const HEAD_END = Buffer.from('\r\n\r\n');

export class ConnectionPool {
  readonly #host: string;
  readonly #port: number;
  readonly #request: Buffer;
  readonly #maxSockets: number;
  readonly #idle: Conn[] = [];
  /** Requests waiting for a connection, oldest first; an abandoned one is skipped when its turn comes. */
  #waiting: (Waiter | undefined)[] = [];
  #head = 0;
  #open = 0;
  #created = 0;
  #destroyed = false;

  constructor(url: string, maxSockets: number) {
    const u = new URL(url);
    if (u.protocol !== 'http:') throw new Error(`load generator: only http:// URLs, received ${JSON.stringify(url)}`);
    this.#host = u.hostname;
    this.#port = Number(u.port || 80);
    this.#maxSockets = maxSockets;
    this.#request = Buffer.from(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUser-Agent: sluice-demo\r\n\r\n`);
  }

  /** Connections opened so far. */
  get created(): number {
    return this.#created;
  }

  /**
   * Send one GET; `done` is called once with the outcome. The returned function abandons
   * the request (its connection is destroyed, or it leaves the wait for a connection).
   */
  send(done: (o: Outcome) => void): () => void {
    let conn: Conn | undefined;
    const start = (c: Conn): void => {
      conn = c;
      c.done = done;
      c.remaining = -1;
      c.socket.write(this.#request);
    };
    const c = this.#acquire();
    let waiter: Waiter | undefined;
    if (c !== undefined) start(c);
    else this.#waiting.push((waiter = { start, abandoned: false }));
    return () => {
      if (waiter !== undefined) waiter.abandoned = true;
      if (conn !== undefined && conn.done === done) {
        conn.done = undefined;
        conn.socket.destroy();
      }
    };
  }

  /** The oldest waiting request that was not abandoned. */
  #nextWaiter(): Waiter | undefined {
    // An array with a moving head: shift() copies a long array, and tens of thousands may wait.
    while (this.#head < this.#waiting.length) {
      const w = this.#waiting[this.#head];
      this.#waiting[this.#head++] = undefined;
      if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
        this.#waiting = this.#waiting.slice(this.#head);
        this.#head = 0;
      }
      if (w !== undefined && !w.abandoned) return w;
    }
    this.#waiting = [];
    this.#head = 0;
    return undefined;
  }

  /**
   * Open up to `n` connections ahead of the load (clients of a busy service arrive with
   * their keep-alive connections open) and wait until they are connected or failed.
   */
  async open(n: number): Promise<void> {
    const opening: Promise<void>[] = [];
    while (opening.length < n && this.#open < this.#maxSockets) {
      const c = this.#connect();
      opening.push(
        new Promise<void>((resolve) => {
          c.socket.once('connect', () => {
            if (c.done === undefined && !c.socket.destroyed) this.#release(c);
            resolve();
          });
          c.socket.once('close', () => resolve());
        }),
      );
    }
    await Promise.all(opening);
  }

  destroy(): void {
    this.#destroyed = true;
    for (const c of this.#idle.splice(0)) c.socket.destroy();
    this.#waiting = [];
    this.#head = 0;
  }

  #acquire(): Conn | undefined {
    const now = performance.now();
    for (let c = this.#idle.pop(); c !== undefined; c = this.#idle.pop()) {
      if (now - c.lastUsed < MAX_IDLE_MS && !c.socket.destroyed) return c;
      c.socket.destroy();
    }
    if (this.#open < this.#maxSockets) return this.#connect();
    return undefined;
  }

  #release(c: Conn): void {
    c.done = undefined;
    c.lastUsed = performance.now();
    if (this.#destroyed || c.close) {
      c.socket.destroy();
      return;
    }
    const next = this.#nextWaiter();
    if (next !== undefined) next.start(c);
    else this.#idle.push(c);
  }

  #connect(): Conn {
    this.#open++;
    this.#created++;
    const socket = connect({ host: this.#host, port: this.#port, noDelay: true });
    const c: Conn = { socket, lastUsed: performance.now(), done: undefined, buf: Buffer.alloc(0), status: 0, retryAfter: false, remaining: -1, close: false };
    socket.on('data', (chunk: Buffer) => this.#onData(c, chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.#open--;
      const i = this.#idle.indexOf(c);
      if (i >= 0) this.#idle.splice(i, 1);
      const done = c.done;
      c.done = undefined;
      if (done !== undefined) {
        if (c.remaining === -3) done({ status: c.status, retryAfter: c.retryAfter });
        else done({ error: 'connection closed before the response ended' });
      }
      // A slot opened: a waiting request may open a new connection.
      if (!this.#destroyed && this.#open < this.#maxSockets) this.#nextWaiter()?.start(this.#connect());
    });
    return c;
  }

  #onData(c: Conn, chunk: Buffer): void {
    c.buf = c.buf.length === 0 ? chunk : Buffer.concat([c.buf, chunk]);
    for (;;) {
      if (c.remaining === -1) {
        const end = c.buf.indexOf(HEAD_END);
        if (end < 0) return;
        this.#parseHead(c, c.buf.toString('latin1', 0, end));
        c.buf = c.buf.subarray(end + 4);
      }
      if (c.remaining === -3) return; // body until close
      if (c.remaining === -2) {
        if (!this.#skipChunks(c)) return;
      } else {
        const take = Math.min(c.remaining, c.buf.length);
        c.remaining -= take;
        c.buf = c.buf.subarray(take);
        if (c.remaining > 0) return;
      }
      const done = c.done;
      const outcome = { status: c.status, retryAfter: c.retryAfter };
      c.remaining = -1;
      this.#release(c);
      done?.(outcome);
      if (c.buf.length === 0 || c.done === undefined) {
        c.buf = Buffer.alloc(0);
        return;
      }
    }
  }

  #parseHead(c: Conn, head: string): void {
    c.status = Number(head.slice(9, 12));
    const lower = head.toLowerCase();
    c.retryAfter = lower.includes('\r\nretry-after:');
    c.close = /\r\nconnection:[ \t]*close/.test(lower);
    const cl = /\r\ncontent-length:[ \t]*(\d+)/.exec(lower);
    if (c.status === 204 || c.status === 304 || (c.status >= 100 && c.status < 200)) c.remaining = 0;
    else if (/\r\ntransfer-encoding:[^\r]*chunked/.test(lower)) c.remaining = -2;
    else if (cl !== null) c.remaining = Number(cl[1]);
    else c.remaining = -3;
  }

  /** Skip a chunked body; true once its last chunk and trailer are consumed. */
  #skipChunks(c: Conn): boolean {
    for (;;) {
      const eol = c.buf.indexOf('\r\n');
      if (eol < 0) return false;
      const size = parseInt(c.buf.toString('latin1', 0, eol), 16);
      if (size === 0) {
        const end = c.buf.indexOf(HEAD_END, eol - 2 >= 0 ? eol - 2 : 0);
        if (end < 0) return false;
        c.buf = c.buf.subarray(end + 4);
        return true;
      }
      if (c.buf.length < eol + 2 + size + 2) return false;
      c.buf = c.buf.subarray(eol + 2 + size + 2);
    }
  }
}
