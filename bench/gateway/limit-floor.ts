/**
 * "node limit floor": the least a Node proxy with the gateway's admission does, so the
 * closed-loop table shows how much of sluice's CPU per request is Node's own (node:http in,
 * an undici Pool out) and how much is sluice's. A fixed number of slots handed out in
 * arrival order; a request that waits longer than the queue timeout is answered 503 with
 * Retry-After; a slot goes back when the upstream's response is complete (as the gateway's
 * permit does), before the client's response is written. Nothing else: no routing, no
 * header checks, no pacing of refused connections, no backpressure from slow clients, no
 * metrics, no logs.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';

/** Request and response headers a proxy does not pass on (RFC 9110 section 7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);
const REFUSAL_BODY = '{"status":503,"title":"Service Unavailable"}';
const REFUSAL_HEAD = ['Content-Type', 'application/problem+json', 'Retry-After', '1', 'Content-Length', String(REFUSAL_BODY.length)];

export interface LimitFloorSettings {
  readonly concurrency: number;
  readonly queueTimeoutMs: number;
  /** The pool's connections to the upstream (the gateway's maxSockets). */
  readonly connections: number;
}

interface Waiter {
  readonly go: () => void;
  readonly timer: NodeJS.Timeout;
  gone: boolean;
}

/** `limit` slots; waiters in arrival order, each refused at its deadline. */
class FifoSlots {
  #free: number;
  readonly #queue: Waiter[] = [];
  #head = 0;

  constructor(limit: number, readonly timeoutMs: number) {
    this.#free = limit;
  }

  /** `go` runs when a slot is taken (at once, or later); `refuse` at the deadline. Returns a cancel for a client gone while it waits. */
  take(go: () => void, refuse: () => void): (() => void) | undefined {
    if (this.#free > 0) {
      this.#free--;
      go();
      return undefined;
    }
    const w: Waiter = {
      go,
      gone: false,
      timer: setTimeout(() => {
        w.gone = true;
        refuse();
      }, this.timeoutMs),
    };
    this.#queue.push(w);
    return () => {
      w.gone = true;
      clearTimeout(w.timer);
    };
  }

  /** Requests waiting for a slot now. */
  waiting(): number {
    let n = 0;
    for (let i = this.#head; i < this.#queue.length; i++) if (!this.#queue[i]!.gone) n++;
    return n;
  }

  release(): void {
    while (this.#head < this.#queue.length) {
      const w = this.#queue[this.#head]!;
      this.#queue[this.#head++] = undefined as unknown as Waiter;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue.splice(0, this.#head);
        this.#head = 0;
      }
      if (w.gone) continue;
      clearTimeout(w.timer);
      w.go();
      return;
    }
    this.#free++;
  }
}

function requestHeaders(req: IncomingMessage): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!HOP_BY_HOP.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  out.push('x-forwarded-for', req.socket.remoteAddress ?? '');
  return out;
}

/** undici's handler for one request: the head and body relayed, the slot given back at the upstream's end. */
class Relay implements Dispatcher.DispatchHandler {
  #released = false;
  #headWritten = false;
  #status = 0;
  #head: string[] = [];

  constructor(readonly res: ServerResponse, readonly slots: FifoSlots) {}

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.slots.release();
  }

  onConnect(): void {}

  onHeaders(status: number, raw: Buffer[]): boolean {
    if (status < 200) return true;
    this.#status = status;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toString('latin1');
      if (!HOP_BY_HOP.has(name.toLowerCase())) this.#head.push(name, raw[i + 1]!.toString('latin1'));
    }
    return true;
  }

  /** Whatever the client has not taken is held (no backpressure: the demo upstream's answers are a few bytes). */
  onData(chunk: Buffer): boolean {
    this.#writeHead();
    this.res.write(chunk);
    return true;
  }

  onComplete(): void {
    this.#release();
    this.#writeHead();
    this.res.end();
  }

  onError(): void {
    this.#release();
    if (!this.res.headersSent) this.res.writeHead(502, ['Content-Length', '0']).end();
    else this.res.destroy();
  }

  #writeHead(): void {
    if (this.#headWritten) return;
    this.#headWritten = true;
    this.res.writeHead(this.#status, this.#head);
  }
}

export async function startLimitFloor(upstreamUrl: string, s: LimitFloorSettings): Promise<{ url: string; waiting: () => number; close: () => Promise<void> }> {
  const origin = new URL(upstreamUrl).origin;
  const pool = new Pool(origin, { connections: s.connections, pipelining: 1 });
  const slots = new FifoSlots(s.concurrency, s.queueTimeoutMs);
  const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => {
    const cancel = slots.take(
      () => {
        const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
        pool.dispatch({ origin, method: req.method as Dispatcher.HttpMethod, path: req.url ?? '/', headers: requestHeaders(req), body: hasBody ? req : null }, new Relay(res, slots));
      },
      () => {
        res.writeHead(503, REFUSAL_HEAD);
        res.end(REFUSAL_BODY);
      },
    );
    if (cancel !== undefined) res.once('close', cancel);
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    waiting: () => slots.waiting(),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await pool.destroy();
    },
  };
}
