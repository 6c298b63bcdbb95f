/**
 * The gateway's own answers (404, 413, 502, 504, 400): problem+json, as sluice/http writes
 * refusals — a sentence for a person (`detail`) and a stable `reason` for a program, the one
 * counted under /status `badRequests` (or the route's refusals) and in the logs. Before
 * hostile-4 only the 429/503 refusals carried `reason`; a client told 400 had to parse English.
 */
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { BadRequestReason } from './bad-requests.js';
import { PROBLEM_CONTENT_TYPE } from '../http/problem.js';
import { STATUS_CODES } from 'node:http';

/** Methods the gateway proxies (the Allow of its 405s and of `OPTIONS *`). */
export const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/** Why the gateway answered itself: a bad request's reason, a body's, or one of its own outcomes. */
export type AnswerReason = BadRequestReason | 'body_timeout' | 'body_too_large' | 'body_memory_full' | 'body_chunks_too_small' | 'chunk_framing_too_large' | 'no_route' | 'queue_full' | 'admission_failed' | 'upstream_unreachable' | 'upstream_timeout' | 'upstream_invalid_response' | 'upstream_header_too_large' | 'connections_full' | 'draining' | 'worker_failed' | 'injected_fault';

function problemBody(status: number, reason: AnswerReason, detail: string): string {
  return JSON.stringify({ type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, detail, reason });
}

export function writeProblem(res: ServerResponse, status: number, reason: AnswerReason, detail: string, headers: Readonly<Record<string, string>> = {}): void {
  if (res.headersSent) return;
  const body = problemBody(status, reason, detail);
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  res.setHeader('Content-Type', PROBLEM_CONTENT_TYPE);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  if (String(res.getHeader('connection')).toLowerCase() === 'close') lingerOnClose(res);
  res.end(body);
}

/** How long a connection closed after an answer is still read (and what comes dropped) for its client to take the answer, at most, ms. */
export const LINGER_MS = 1_000;
/** How much a lingering connection reads (and drops) at most, bytes; the connection limiter's lingering too. */
export const LINGER_BYTES = 64 * 1024;

type ClosingSocket = NonNullable<ServerResponse['socket']> & { destroySoon?: () => void };

/**
 * An answer that closes its connection while the client is still sending its request (a body
 * refused 413 as it uploads, a 404 before its body): node:http closes at once once the answer is
 * written (`destroySoon`), and what the client sends after the close makes the kernel answer a
 * reset, which wipes the answer out of the client's receive buffer — curl uploading 50 MB over
 * the limit often got no status, only `Failed sending data to the peer` (hostile-12).
 * So the close is lingering, as nginx's and Apache's are: the answer and a FIN, then what comes
 * is read and dropped until the client closes its side or LINGER_MS passed. A request already
 * read whole closes as before. At most LINGER_BYTES are read so (a client pushing at line rate
 * had the gateway read and drop 16 MB in its second): past that the socket is paused, not cut —
 * a reset would wipe the answer out of a client that has not read it yet — and the client's
 * bytes wait in TCP until the time cap.
 */
export function lingerOnClose(res: ServerResponse): void {
  const socket = res.socket as ClosingSocket | null;
  if (socket === null || res.req.complete || typeof socket.destroySoon !== 'function') return;
  socket.destroySoon = function (this: ClosingSocket): void {
    if (this.writable) this.end();
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    timer.unref();
    // Counted from the next turn: a 'data' listener takes the socket from node:http's parser
    // (which reads it natively), and added now, before node:http's dump of the unread body has
    // resumed that native read (a tick later), nothing would be read again, nor the client's
    // close seen. From then on a read past LINGER_BYTES pauses the socket.
    setImmediate(() => {
      if (this.destroyed) return;
      let read = 0;
      this.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > LINGER_BYTES) this.pause();
      });
      this.resume();
    });
    this.once('close', () => clearTimeout(timer));
  };
}

/**
 * Linger on a socket whose answer is written and whose side is ended (`socket.end(answer)`),
 * when nothing else reads it (a CONNECT's socket, which node:http hands over, or one whose
 * request could not be parsed): what the client sends is read and dropped — LINGER_BYTES at
 * most, then the socket is paused, not cut (a reset would wipe the answer out of a client that
 * has not read it) — so that the connection closes as soon as the client closes its side or
 * resets, not only when LINGER_MS have passed. Unread, the client's FIN was never seen and the
 * socket held its descriptor the whole linger; its reset was an 'error' nothing listened to
 * on a handed-over socket: an uncaught exception, which ends a worker. A connection over the cap
 * lingers so too (connection-limit.ts).
 */
export function lingerAfterEnd(socket: Duplex, lingerMs = LINGER_MS): void {
  const timer = setTimeout(() => socket.destroy(), lingerMs);
  timer.unref();
  let read = 0;
  socket.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read > LINGER_BYTES) socket.pause();
  });
  socket.once('end', () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.once('close', () => clearTimeout(timer));
  socket.resume();
}

/**
 * The same answer as bytes for a socket no ServerResponse can write to (node:http could not
 * parse the request, or handed the socket over: CONNECT); it closes the connection. Dated now
 * (RFC 9110 section 6.6.1: an origin server with a clock MUST date a 4xx, as node:http dates
 * every response it writes; until hostile-23 these had no Date); `dated: false` for an answer
 * rendered once and sent for ever after (a 5xx, where a Date is optional).
 */
export function rawProblem(status: number, reason: AnswerReason, detail: string, headers: Readonly<Record<string, string>> = {}, dated = true): string {
  const body = problemBody(status, reason, detail);
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  if (dated) head += `Date: ${new Date().toUTCString()}\r\n`;
  return `${head}Content-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** A copy of a rendered header list (name, value, ...) with its Retry-After replaced. */
export function withRetryAfter(head: readonly string[], s: number): string[] {
  const out = [...head];
  for (let i = 0; i < out.length; i += 2) if (out[i]!.toLowerCase() === 'retry-after') out[i + 1] = String(s);
  return out;
}
