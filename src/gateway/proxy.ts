/**
 * Forwarding one admitted request to its upstream and the response back, streaming both
 * bodies (stream.pipeline: backpressure both ways, nothing buffered whole).
 *
 * Failures: no response headers within the upstream's `timeout` is 504; a connection error
 * before the response is 502. Either releases the request's permit with outcome 'dropped'
 * first, so the adaptive limit sees a drop and the breaker a failure (an upstream 5xx is a
 * 'failure' through sluice/http's classify). A failure after the headers went out can only
 * cut the response. A client that goes away is not the upstream's failure: its request is
 * cut and nothing is counted against the upstream here.
 */
import { request } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import type { Permit } from '../core/types.js';
import type { TrustCheck } from '../http/trusted-proxies.js';
import type { HeaderPair } from '../http/ratelimit-headers.js';
import { endToEnd, responseHead, upstreamRequestHeaders } from './forward-headers.js';
import { writeProblem } from './responses.js';
import type { LiveUpstream } from './route-table.js';

export interface ForwardContext {
  readonly trusted: TrustCheck | undefined;
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

export function forward(req: IncomingMessage, res: ServerResponse, upstream: LiveUpstream, permit: Permit | undefined, ctx: ForwardContext, own: readonly HeaderPair[] = NO_HEADERS): void {
  const u = upstream.config;
  const target = req.url === '*' ? '*' : `${u.basePath}${req.url ?? '/'}`;
  let settled = false;
  let clientGone = false;
  const preq = request({
    agent: upstream.agent,
    host: u.hostname,
    port: u.port,
    method: req.method,
    path: target,
    headers: upstreamRequestHeaders(req, u.host, ctx.trusted),
    setHost: false,
  });
  const fail = (status: 502 | 504 | 413, kind: 'error' | 'timeout' | 'too-large', error?: string): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    preq.destroy();
    if (kind !== 'too-large') {
      if (clientGone) return;
      permit?.release('dropped');
      ctx.onUpstreamFailure(kind, error);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.setHeader('Connection', 'close');
    for (const [name, value] of own) res.setHeader(name, value);
    writeProblem(res, status, kind === 'timeout' ? 'The upstream did not answer in time.' : kind === 'too-large' ? 'The request body is too large.' : 'The upstream could not be reached.');
  };
  // The response timeout runs from the end of the request body: an upload streams at the client's pace.
  let timer: NodeJS.Timeout | undefined;
  preq.on('finish', () => {
    if (!settled) timer = setTimeout(() => fail(504, 'timeout'), u.timeoutMs);
  });
  res.once('close', () => {
    if (res.writableFinished) return;
    clientGone = true;
    settled = true;
    clearTimeout(timer);
    // Before the response this abandons the upstream request; during it, stops reading the
    // upstream's body (its socket is not reused).
    preq.destroy();
  });
  // The agent's socket idle timeout: before the response it is a 504, during it a cut.
  preq.on('timeout', () => (settled ? preq.destroy() : fail(504, 'timeout')));
  preq.on('response', (pres) => {
    clearTimeout(timer);
    if (settled) {
      pres.resume();
      return;
    }
    settled = true;
    const status = pres.statusCode ?? 502;
    if (res.getHeaderNames().length === 0) {
      // The common case: one header block, written as a list (duplicates such as Set-Cookie kept).
      res.writeHead(status, pres.statusMessage, responseHead(pres.rawHeaders, own));
    } else {
      // Headers already set on the response (Connection: close while draining): merge by name.
      for (const [name, value] of own) res.setHeader(name, value);
      for (const [name, value] of Object.entries(endToEnd(pres.headers))) if (value !== undefined) res.setHeader(name, value);
      res.writeHead(status, pres.statusMessage);
    }
    // A cut mid-body (upstream error or reset): the client sees a truncated response (its
    // Content-Length or chunking tells it). A client that goes away is handled by 'close' above.
    pres.on('error', () => res.destroy());
    pres.on('aborted', () => res.destroy());
    pres.pipe(res);
  });
  preq.on('error', (err: NodeJS.ErrnoException) => fail(502, 'error', err.code ?? err.message));
  if (!hasBody(req)) {
    // No body (no Content-Length above 0, no Transfer-Encoding): nothing to stream.
    preq.end();
    return;
  }
  // Not pipeline(): a failed upstream request must not destroy the client's socket, which
  // still has to carry the 502/504.
  const limit = new BodyLimit(ctx.maxBodySize);
  limit.on('error', (err) => {
    req.unpipe(limit);
    req.resume();
    if (err instanceof BodyTooLarge) fail(413, 'too-large');
  });
  req.pipe(limit).pipe(preq);
}
