/**
 * What the admin listener answers a request it does not parse, or a CONNECT, instead of
 * node:http's defaults (hostile-16): a CONNECT (node:http hands it to the server's `connect`
 * event, which had no listener) closed the connection with nothing written, and a request
 * target over the head's limit (a 20 kB query string on /status) was `431` with no body — the
 * status of headers too large; RFC 9110 section 15.5.15 has `414 URI Too Long` for it. The
 * proxy port's judgements (client-errors.ts, versionless-requests.ts) are reused; the answer is
 * the admin listener's plain text, its reason first, and the connection closes.
 */
import { maxHeaderSize as defaultMaxHeaderSize, STATUS_CODES } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { inFlightOf, parseErrorVerdict } from './client-errors.js';
import { lingerAfterEnd } from './responses.js';
import { watchFirstLines } from './versionless-requests.js';

/** A whole answer on the wire: `status`, a plain-text body (`reason: detail`), extra headers, dated now (as responses.ts rawProblem), then the close. */
export function rawAdminAnswer(status: number, reason: string, detail: string, headers: Readonly<Record<string, string>> = {}): string {
  const body = `${reason}: ${detail}\n`;
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  return `${head}Date: ${new Date().toUTCString()}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`;
}

/** `answer`, after the response in flight on `socket` if any, then the close (lingering: the client reads it before a reset). */
function endWith(socket: Duplex, answer: string): void {
  const write = (): void => {
    if (!socket.writable) return void socket.destroy();
    socket.end(answer);
    lingerAfterEnd(socket);
  };
  const inFlight = inFlightOf(socket);
  if (inFlight === undefined || inFlight.writableFinished) return write();
  inFlight.shouldKeepAlive = false;
  inFlight.once('finish', write);
}

/** The admin listener's answers to CONNECT and to what node:http cannot parse; `maxHeaderSize`: the listener's (node:http's default). */
export function answerAdminClientErrors(server: Server, maxHeaderSize = defaultMaxHeaderSize): void {
  const answered = new WeakSet<Duplex>();
  const longFirstLine = new WeakSet<Socket>();
  const headLines = new WeakMap<Socket, Buffer>();
  const once = (socket: Duplex, answer: string): void => {
    if (answered.has(socket)) return;
    answered.add(socket);
    endWith(socket, answer);
  };
  watchFirstLines(server, maxHeaderSize, {
    versionless: (socket) => once(socket, rawAdminAnswer(505, 'bad_version', 'Only HTTP/1.0 and HTTP/1.1 are served: the request line has no version (HTTP/0.9).')),
    tooLong: (socket) => longFirstLine.add(socket),
    headLine: (socket, line) => (line === undefined ? headLines.delete(socket) : headLines.set(socket, line)),
  });
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    if (answered.has(socket)) return;
    // Bytes after a request that said Connection: close: its response goes out, then the close (as on the proxy port).
    if (err.code === 'HPE_CLOSED_CONNECTION') return void (inFlightOf(socket) === undefined && socket.end());
    // Without its limit: the proxy port's verdict names server.maxHeaderSize, which the admin listener does not take.
    const v = parseErrorVerdict(err, longFirstLine.has(socket as Socket), undefined, headLines.get(socket as Socket));
    if (v === undefined || socket.destroyed) return void socket.destroy();
    const limit = v.status === 414 || v.status === 431 ? ` A request head to the admin listener may be ${maxHeaderSize} bytes.` : '';
    once(socket, rawAdminAnswer(v.status, v.reason, `${v.detail}${limit}`));
  });
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    once(socket, rawAdminAnswer(405, 'method_not_allowed', 'the admin listener serves GET and HEAD, it is no tunnel: CONNECT is refused', { Allow: 'GET, HEAD' }));
  });
}
