/**
 * Forwarding one admitted request to its upstream and the response back, streaming both
 * bodies with backpressure both ways and nothing buffered whole. The upstream side is an
 * undici Pool per upstream (keep-alive, at most `maxSockets` connections) driven through
 * its dispatch API: one handler object per request, no ClientRequest or IncomingMessage.
 *
 * The forwarder owns the request's permit (sluice/http's `decide`) and ends it once, when
 * the upstream's part is done: with the upstream's status (`finish`: the policy's classify
 * makes a 5xx a 'failure') when its response is complete, so service time is the
 * upstream's, not the client's relay. Everything else ends the same permit through the
 * same call (`release`, a no-op after the first):
 * - no response headers within the upstream's `timeout` is 504, a connection error before
 *   the response 502: 'dropped' first, so the adaptive limit sees a drop and the breaker a
 *   failure;
 * - a failure after the headers went out (the upstream resets, or is silent past
 *   `idleTimeout`) can only cut the response: 'dropped' for a silence, 'failure' for a reset;
 * - a client that goes away, or a body over `maxBodySize` (413), is not the upstream's
 *   doing: its upstream request is aborted and the permit ends 'ignored' (no sample, no
 *   failure), so clients that hang up cannot open the breaker or cut the limit.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { HttpPermit } from '../http/http-permit.js';
import type { HeaderPair } from '../http/ratelimit-headers.js';
import type { TrustCheck } from '../http/trusted-proxies.js';
import { responseHead, upstreamRequestHead } from './forward-headers.js';
import { writeProblem } from './responses.js';
import type { LiveUpstream } from './route-table.js';

export interface ForwardContext {
  readonly trusted: TrustCheck | undefined;
  /** Request headers dropped unless the peer is trusted (lowercase; forward-headers.ts). */
  readonly stripped: ReadonlySet<string>;
  readonly maxBodySize: number;
  /** An upstream failure (502/504) happened: for logs and counters. */
  readonly onUpstreamFailure: (kind: 'error' | 'timeout', error: string | undefined) => void;
}

class BodyTooLarge extends Error {}

const NO_HEADERS: readonly HeaderPair[] = [];

/** Whether a request has a body to stream (RFC 9112 section 6.3: Transfer-Encoding or a Content-Length). */
function hasBody(req: IncomingMessage): boolean {
  const h = req.headers;
  if (h['transfer-encoding'] !== undefined) return true;
  const cl = h['content-length'];
  return cl !== undefined && cl !== '0';
}

/** Counts body bytes and fails the stream past the limit (bodies without Content-Length). */
class BodyLimit extends Transform {
  #seen = 0;
  constructor(readonly max: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#seen > this.max) cb(new BodyTooLarge());
    else cb(null, chunk);
  }
}

/** undici's error codes for a silent upstream: before the headers a 504, during the body a cut. */
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The forwarding of each response in flight, for abandonForwarding. */
const forwardings = new WeakMap<ServerResponse, Forwarding>();

/**
 * The client's request turned out malformed after it was forwarded (its body broke the
 * parser: client-errors.ts): end its forwarding now, before undici sends it if it has not
 * yet, as a client that went away ('ignored', the upstream request aborted).
 */
export function abandonForwarding(res: ServerResponse): void {
  forwardings.get(res)?.clientGone();
}

/** One request's trip upstream and back: undici's dispatch handler. */
class Forwarding implements Dispatcher.DispatchHandler {
  #abort: ((err?: Error) => void) | undefined;
  /** The response started (headers written) or the request ended another way. */
  #settled = false;
  #clientGone = false;
  #resume: (() => void) | undefined;
  #status = 0;
  /** fail() answered (502/504/413): what undici reports after that is the abort it asked for. */
  #failed = false;
  #headersTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly res: ServerResponse,
    readonly permit: HttpPermit | undefined,
    readonly ctx: ForwardContext,
    readonly own: readonly HeaderPair[],
  ) {
    forwardings.set(res, this);
    res.once('close', () => {
      if (!res.writableFinished) this.clientGone();
    });
  }

  clientGone(): void {
    if (this.#clientGone) return;
    this.#clientGone = true;
    this.#settled = true;
    clearTimeout(this.#headersTimer);
    this.permit?.release('ignored');
    // Before the response this abandons the upstream request; during it, stops reading the upstream's body.
    this.#abort?.(new Error('client closed'));
  }

  /** A 504 unless the response headers come within `ms` (requests with a body; see forward()). */
  startHeadersTimer(ms: number): void {
    if (!this.#settled) this.#headersTimer = setTimeout(() => this.fail(504, 'timeout'), ms);
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort;
    // Given up on before undici got to it (client gone, 504, 413): never sent.
    if (this.#settled && this.#status === 0) abort(new Error('abandoned'));
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    if (status < 200) return true; // 1xx: not relayed (Expect is not forwarded)
    if (this.#settled) return false;
    this.#settled = true;
    clearTimeout(this.#headersTimer);
    this.#resume = resume;
    this.#status = status;
    const res = this.res;
    const head = responseHead(raw, this.own);
    if (res.getHeaderNames().length === 0) {
      // The common case: one header block, written as a list (duplicates such as Set-Cookie kept).
      res.writeHead(status, statusText, head);
    } else {
      // Headers already set on the response (Connection: close while draining): merge by name.
      const merged = new Map<string, string[]>();
      for (let i = 0; i < head.length; i += 2) {
        const name = head[i]!.toLowerCase();
        const values = merged.get(name);
        if (values === undefined) merged.set(name, [head[i + 1]!]);
        else values.push(head[i + 1]!);
      }
      for (const [name, values] of merged) res.setHeader(name, values.length === 1 ? values[0]! : values);
      res.writeHead(status, statusText);
    }
    res.on('drain', () => this.#resume?.());
    return true;
  }

  onData(chunk: Buffer): boolean {
    return this.#clientGone ? false : this.res.write(chunk);
  }

  onComplete(): void {
    // The upstream's part is done: its slot goes back now, not once the relay to the client
    // has drained (what a client does with the response is not the upstream's load).
    this.permit?.finish(this.#status);
    if (!this.#clientGone) this.res.end();
  }

  onError(err: Error & { code?: string }): void {
    // Gone, or given up on here (fail() aborts the upstream request, which lands here too).
    if (this.#clientGone || this.#failed) return;
    const res = this.res;
    const timeout = TIMEOUT_CODES.has(err.code ?? '');
    if (this.#settled) {
      // Mid-body: the client sees a truncated response (its Content-Length or chunking tells it).
      this.permit?.release(timeout ? 'dropped' : 'failure');
      res.destroy();
      return;
    }
    this.fail(timeout ? 504 : 502, timeout ? 'timeout' : 'error', err.code ?? err.message);
  }

  fail(status: 502 | 504 | 413, kind: 'error' | 'timeout' | 'too-large', error?: string): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#failed = true;
    clearTimeout(this.#headersTimer);
    this.#abort?.(new Error(kind));
    if (kind === 'too-large') this.permit?.release('ignored');
    else {
      this.permit?.release('dropped');
      this.ctx.onUpstreamFailure(kind, error);
    }
    const res = this.res;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.setHeader('Connection', 'close');
    for (const [name, value] of this.own) res.setHeader(name, value);
    writeProblem(res, status, kind === 'timeout' ? 'The upstream did not answer in time.' : kind === 'too-large' ? 'The request body is too large.' : 'The upstream could not be reached.');
  }
}

export function forward(req: IncomingMessage, res: ServerResponse, upstream: LiveUpstream, permit: HttpPermit | undefined, ctx: ForwardContext, own: readonly HeaderPair[] = NO_HEADERS): void {
  const u = upstream.config;
  if (req.socket.destroyed || req.socket.writableEnded) {
    // The connection was answered and closed meanwhile (a malformed body, while this request waited): nothing to forward.
    permit?.release('ignored');
    return;
  }
  const handler = new Forwarding(res, permit, ctx, own);
  let body: BodyLimit | null = null;
  if (hasBody(req)) {
    body = new BodyLimit(ctx.maxBodySize);
    body.on('error', (err) => {
      req.unpipe(body!);
      req.resume();
      if (err instanceof BodyTooLarge) handler.fail(413, 'too-large');
    });
    // An upload streams at the client's pace: the wait for the response headers starts once
    // the whole body was read (undici's own headers timeout is off for these requests).
    req.once('end', () => handler.startHeadersTimer(u.timeoutMs));
    req.pipe(body);
  }
  try {
    upstream.pool.dispatch(
      {
        origin: u.origin,
        method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
        path: `${u.basePath}${req.url ?? '/'}`,
        headers: upstreamRequestHead(req, u.host, ctx.trusted, ctx.stripped),
        body,
        ...(body === null ? {} : { headersTimeout: 0 }),
      },
      handler,
    );
  } catch (err) {
    // A request undici will not send (a header it refuses): the upstream was never asked.
    handler.fail(502, 'error', err instanceof Error ? err.message : String(err));
  }
}
