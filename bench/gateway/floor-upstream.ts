/**
 * The node limit floor's way to the upstream (limit-floor.ts), one of three HTTP/1 clients
 * (issue 9: which one lets a Node limiter keep up with the upstream):
 * - `undici`: a Pool at `pipelining: 1`, as the gateway's (src/gateway/route-table.ts) — a
 *   request on a reused keep-alive connection is written from a setImmediate (client-h1.js,
 *   bench/undici-write-phase.ts);
 * - `undici` with `pipelining` > 1: written at once when queued behind a running request on
 *   the same connection — and open to the response desync GHSA-35p6-xmwp-9g52 is about
 *   (bench/results/handoff-e850e97-busy.md): measured, not a lever;
 * - `node`: node:http's own client, `http.request` over an `http.Agent({ keepAlive: true })`.
 * Each forward answers the client from the upstream's head and body, and calls `done` once,
 * when the upstream's response is complete or failed (the slot goes back then, as the
 * gateway's permit does), before the client's response is ended.
 */
import { Agent, request } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';

/** Request and response headers a proxy does not pass on (RFC 9110 section 7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);

export type FloorClient = 'undici' | 'node';

export interface FloorUpstreamSettings {
  /** Which HTTP/1 client reaches the upstream. */
  readonly client: FloorClient;
  /** Connections to the upstream (the gateway's maxSockets): the Pool's `connections`, the Agent's `maxSockets`. */
  readonly connections: number;
  /** undici only: requests in flight per connection (the gateway's is 1). */
  readonly pipelining: number;
}

export interface FloorUpstream {
  /** Forwards `req`; `done` runs once, at the upstream response's end or failure. */
  forward(req: IncomingMessage, res: ServerResponse, done: () => void): void;
  close(): Promise<void>;
}

function requestHeaders(req: IncomingMessage): string[] {
  const raw = req.rawHeaders;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!HOP_BY_HOP.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  out.push('x-forwarded-for', req.socket.remoteAddress ?? '');
  return out;
}

const hasBody = (req: IncomingMessage): boolean => req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;

/** The client's side of one forward, whichever client runs it: the head written once, `done` called once. */
class Reply {
  #done = false;
  #headWritten = false;
  #status = 0;
  readonly #head: string[] = [];

  constructor(
    readonly res: ServerResponse,
    readonly onDone: () => void,
  ) {}

  /** The upstream's status and raw headers (name, value, name, value, ...), hop-by-hop ones left out. */
  head(status: number, raw: readonly string[]): void {
    this.#status = status;
    for (let i = 0; i < raw.length; i += 2) if (!HOP_BY_HOP.has(raw[i]!.toLowerCase())) this.#head.push(raw[i]!, raw[i + 1]!);
  }

  /** Whatever the client has not taken is held (no backpressure: the demo upstream's answers are a few bytes). */
  data(chunk: Buffer): void {
    this.#writeHead();
    this.res.write(chunk);
  }

  complete(): void {
    this.#finish();
    this.#writeHead();
    this.res.end();
  }

  fail(): void {
    this.#finish();
    if (!this.res.headersSent) this.res.writeHead(502, ['Content-Length', '0']).end();
    else this.res.destroy();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.onDone();
  }

  #writeHead(): void {
    if (this.#headWritten) return;
    this.#headWritten = true;
    this.res.writeHead(this.#status, this.#head);
  }
}

/** undici's handler for one request. */
class UndiciRelay implements Dispatcher.DispatchHandler {
  constructor(readonly reply: Reply) {}
  onConnect(): void {}
  onHeaders(status: number, raw: Buffer[]): boolean {
    if (status < 200) return true;
    this.reply.head(status, raw.map((b) => b.toString('latin1')));
    return true;
  }
  onData(chunk: Buffer): boolean {
    this.reply.data(chunk);
    return true;
  }
  onComplete(): void {
    this.reply.complete();
  }
  onError(): void {
    this.reply.fail();
  }
}

function undiciUpstream(origin: string, s: FloorUpstreamSettings): FloorUpstream {
  const pool = new Pool(origin, { connections: s.connections, pipelining: s.pipelining });
  return {
    forward: (req, res, done) => {
      pool.dispatch({ origin, method: req.method as Dispatcher.HttpMethod, path: req.url ?? '/', headers: requestHeaders(req), body: hasBody(req) ? req : null }, new UndiciRelay(new Reply(res, done)));
    },
    close: () => pool.destroy(),
  };
}

function nodeUpstream(origin: string, s: FloorUpstreamSettings): FloorUpstream {
  const target = new URL(origin);
  const agent = new Agent({ keepAlive: true, maxSockets: s.connections, maxFreeSockets: s.connections });
  return {
    forward: (req, res, done) => {
      const reply = new Reply(res, done);
      const up = request({ agent, host: target.hostname, port: target.port, method: req.method, path: req.url, headers: requestHeaders(req) }, (ur: IncomingMessage) => {
        reply.head(ur.statusCode ?? 502, ur.rawHeaders);
        ur.on('data', (chunk: Buffer) => reply.data(chunk));
        ur.on('end', () => reply.complete());
        ur.on('error', () => reply.fail());
      });
      up.on('error', () => reply.fail());
      if (hasBody(req)) req.pipe(up);
      else up.end();
    },
    close: async () => agent.destroy(),
  };
}

export function floorUpstream(origin: string, s: FloorUpstreamSettings): FloorUpstream {
  return s.client === 'node' ? nodeUpstream(origin, s) : undiciUpstream(origin, s);
}
