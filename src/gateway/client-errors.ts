/**
 * An answer for every request node:http cannot parse, instead of a silent close: llhttp's
 * error code (HPE_*) picks the status and the reason (counted and logged, bad-requests.ts),
 * and the answer is written to the socket itself — there is no ServerResponse for a request
 * that was never parsed. Nothing unparsed reaches a request handler, so nothing malformed is
 * forwarded. CONNECT, which node:http hands to the server's `connect` event, is answered 405.
 *
 * A socket is written to only when that cannot corrupt what the client reads:
 * - no response in flight: the answer, then the connection closes;
 * - a response in flight for this same request (an error in its body: a bad chunk) whose
 *   headers have not gone out: the answer, then the close (which ends the forwarding: proxy.ts
 *   aborts the upstream request when the client connection closes before its response);
 * - a response in flight for an earlier request (garbage pipelined behind it): the answer
 *   after that response, then the close;
 * - a response already on the wire for this same request: nothing can be said; the close.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { BadRequests, BadVerdict } from './bad-requests.js';
import { listHas } from './header-lists.js';
import { heldTimeout } from './held-timeouts.js';
import type { HeldReads } from './held-timeouts.js';
import { CHUNKED_NOT_FINAL } from './message-checks.js';
import { abandonForwarding } from './forwarded-response.js';
import { ALLOWED_METHODS, lingerAfterEnd, rawProblem, writeProblem } from './responses.js';


type ParseError = Error & { code?: string; reason?: string; rawPacket?: Buffer; bytesParsed?: number };

const verdict = (status: number, reason: BadVerdict['reason'], detail: string): BadVerdict => ({ status, reason, detail });

const SP = 0x20;
const LF = 0x0a;
const COLON = 0x3a;
/** A request line's start: a method (a token), then a space; a header line has a colon after its name. */
const REQUEST_LINE_START = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ /;

/**
 * Whether a head overflow is the request target's: node:http counts the target with the
 * headers against maxHeaderSize, and reports both as HPE_HEADER_OVERFLOW. The parser stops on
 * the span it was reading when it went over: the target's ends at the space before the
 * version, a header value's at its CR, a name's just past its colon. A span cut by the end of a read
 * is told by its line's start, when the line began in that read; undefined when it did not.
 */
export function overflowInTarget(err: ParseError): boolean | undefined {
  const raw = err.rawPacket;
  const at = err.bytesParsed;
  if (raw === undefined || at === undefined || at > raw.length) return undefined;
  // A name's span is reported just past its colon, before the value's space.
  if (raw[at] === SP && raw[at - 1] !== COLON) return true;
  const start = lineStart(raw, at);
  if (start === 0) return undefined;
  return REQUEST_LINE_START.test(raw.subarray(start, Math.min(at, start + 64)).toString('latin1'));
}

/** Where the line holding offset `at` of `raw` begins: past the last LF before it, else 0 (a negative offset would search from the end). */
function lineStart(raw: Buffer, at: number): number {
  return at === 0 ? 0 : raw.lastIndexOf(LF, at - 1) + 1;
}

/** Whether a line whose first bytes are `line` (from earlier reads), continued by `err`'s read, is a request line; undefined without them. */
function carriedTarget(err: ParseError, line: Buffer | undefined): boolean | undefined {
  if (line === undefined) return undefined;
  const raw = err.rawPacket ?? Buffer.alloc(0);
  return REQUEST_LINE_START.test(Buffer.concat([line, raw.subarray(0, 64)]).subarray(0, 64).toString('latin1'));
}

/** A request line: a method (a token), a target, a version. */
const REQUEST_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ [!-~]+ HTTP\/\d\.\d\r?\n/;

/** Whether a method the parser refused begins a well-formed request line (from its line's start in the read). */
function unknownMethod(err: ParseError): boolean {
  const raw = err.rawPacket;
  const at = err.bytesParsed;
  if (raw === undefined || at === undefined || at > raw.length) return false;
  const start = lineStart(raw, at);
  return REQUEST_LINE.test(raw.subarray(start, Math.min(raw.length, start + 8192)).toString('latin1'));
}

/** A Content-Length field's line whose value is a list of numbers (`3, 3`, `3,4`); group 1 is the list. */
const CONTENT_LENGTH_LIST = /^content-length:[ \t]*(\d+(?:[ \t]*,[ \t]*\d+)+)[ \t]*\r?$/i;
const EQUAL_LIST: BadVerdict = verdict(400, 'duplicate_content_length', 'The Content-Length header is a list of equal values: send the length once (RFC 9110 section 8.6 lets a recipient refuse such a list, and this gateway does, as it refuses the field sent twice).');
const DIFFERENT_LIST: BadVerdict = verdict(400, 'duplicate_content_length', 'The Content-Length header is a list of different values, so the length of the body is unknown (RFC 9110 section 8.6).');

/**
 * The answer to a Content-Length that llhttp refused at a comma: a list of numbers (RFC 9110
 * section 8.6), equal or different, which its words ('Invalid character in Content-Length')
 * would call malformed. Read from the line holding the error, when that line is whole in the
 * read; undefined when it is not, or is no list of numbers (`3, x` stays malformed).
 */
function contentLengthList(err: ParseError): BadVerdict | undefined {
  const raw = err.rawPacket;
  const at = err.bytesParsed;
  if (raw === undefined || at === undefined || at > raw.length) return undefined;
  const start = lineStart(raw, at);
  const end = raw.indexOf(LF, at);
  if (end < 0) return undefined;
  const m = CONTENT_LENGTH_LIST.exec(raw.subarray(start, end).toString('latin1'));
  if (m === null) return undefined;
  const values = m[1]!.split(',').map((v) => BigInt(v.trim()));
  return values.every((v) => v === values[0]) ? EQUAL_LIST : DIFFERENT_LIST;
}

/**
 * What to answer a parse error; undefined for a socket error (a reset: nobody to answer).
 * `longFirstLine`: the connection's first request line did not end within `maxHeaderSize`;
 * `headLine`: the first bytes of the line the head was in when a read ended (head-lines.ts).
 */
export function parseErrorVerdict(err: ParseError, longFirstLine = false, maxHeaderSize?: number, headLine?: Buffer): BadVerdict | undefined {
  const code = err.code ?? '';
  // llhttp's own words (fixed texts, never the client's bytes), e.g. "Invalid header value char".
  const why = (err.reason ?? err.message.replace(/^Parse Error: /, '')).replace(/\.$/, '');
  const said = (s: string): string => `${s} (${why}).`;
  switch (code) {
    case 'HPE_HEADER_OVERFLOW': {
      const limit = maxHeaderSize === undefined ? '' : ` (${maxHeaderSize} bytes, server.maxHeaderSize)`;
      if (overflowInTarget(err) ?? carriedTarget(err, headLine) ?? longFirstLine) return verdict(414, 'uri_too_long', `The request target is longer than the whole head of a request may be${limit}.`);
      return verdict(431, 'headers_too_large', `The request headers are larger than this gateway accepts${limit}.`);
    }
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return verdict(408, 'request_timeout', 'The request was not received in time.');
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return verdict(413, 'chunk_extensions_too_large', 'The chunk extensions of the request body are too large.');
    case 'HPE_INVALID_METHOD':
      // A well-formed request line whose method the parser does not know (`FOO`, `get`: methods are case-sensitive) is not implemented, not malformed (RFC 9110 section 9.1).
      if (unknownMethod(err)) return verdict(501, 'method_not_implemented', 'The request method is not one this gateway implements (methods are case-sensitive: GET, not get).');
      return verdict(400, 'bad_request_line', said('The request line is malformed'));
    case 'HPE_INVALID_CONSTANT':
      return verdict(400, 'bad_request_line', said('The request line is malformed'));
    case 'HPE_PAUSED_H2_UPGRADE':
      // `PRI * HTTP/2.0`: HTTP/2 with prior knowledge (h2c).
      return verdict(505, 'bad_version', 'Only HTTP/1.0 and HTTP/1.1 are served: HTTP/2 with prior knowledge (the PRI preface) is not.');
    case 'HPE_INVALID_VERSION':
      return /invalid http version/i.test(why) ? verdict(505, 'bad_version', said('Only HTTP/1.0 and HTTP/1.1 are served')) : verdict(400, 'bad_request_line', said('The request line is malformed'));
    case 'HPE_INVALID_URL':
      return verdict(400, 'bad_target', said('The request target is malformed'));
    case 'HPE_INVALID_HEADER_TOKEN':
      return /whitespace after header value/i.test(why) ? verdict(400, 'obs_fold', said('A header is folded over lines (obs-fold), which is refused')) : verdict(400, 'bad_header', said('A header is malformed'));
    case 'HPE_INVALID_TRANSFER_ENCODING':
      if (/content-length/i.test(why)) return verdict(400, 'content_length_and_transfer_encoding', 'The request has both Content-Length and Transfer-Encoding.');
      // llhttp's words for a request whose last coding is not chunked (RFC 9112 section 6.3: 400).
      if (/request has invalid/i.test(why)) return CHUNKED_NOT_FINAL;
      return verdict(400, 'bad_transfer_encoding', said('The Transfer-Encoding header is malformed'));
    case 'HPE_INVALID_CONTENT_LENGTH':
      if (/transfer-encoding/i.test(why)) return verdict(400, 'content_length_and_transfer_encoding', 'The request has both Content-Length and Transfer-Encoding.');
      return contentLengthList(err) ?? verdict(400, 'bad_content_length', said('The Content-Length header is malformed'));
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return verdict(400, 'duplicate_content_length', 'The request has more than one Content-Length.');
    case 'HPE_INVALID_CHUNK_SIZE':
      return verdict(400, 'bad_chunk', said('A chunk of the request body is malformed'));
    case 'HPE_STRICT':
    case 'HPE_CR_EXPECTED':
    case 'HPE_LF_EXPECTED':
      if (/chunk/i.test(why)) return verdict(400, 'bad_chunk', said('A chunk of the request body is malformed'));
      if (/header/i.test(why)) return verdict(400, 'bad_header', said('A header is malformed'));
      return verdict(400, 'bad_request_line', said('The request line is malformed'));
    case 'HPE_INVALID_EOF_STATE':
      return verdict(400, 'incomplete_request', 'The connection was half-closed before the request was complete.');
    default:
      return code.startsWith('HPE_') ? verdict(400, 'parse_error', said('The request could not be parsed')) : undefined;
  }
}

/**
 * A head overflow while the request in flight is still incomplete is in its trailer section
 * (fields after a chunked body's last chunk: llhttp counts them against maxHeaderSize): said so,
 * not 'the request headers' the client sent long before (hostile-16). So is a Content-Length or
 * Transfer-Encoding there, which llhttp judges as if in the head ('The request has both
 * Content-Length and Transfer-Encoding', of a head that had one: hostile-17).
 */
function inTrailers(v: BadVerdict | undefined, req: IncomingMessage | undefined, maxHeaderSize: number | undefined): BadVerdict | undefined {
  if (v === undefined || req === undefined || req.complete) return v;
  if (v.reason === 'content_length_and_transfer_encoding' || v.reason === 'bad_transfer_encoding') {
    return { ...v, detail: 'A trailer field after the chunked request body is Content-Length or Transfer-Encoding, which frame a message and cannot be trailer fields (RFC 9110 section 6.5.1).' };
  }
  if (v.reason !== 'headers_too_large') return v;
  const limit = maxHeaderSize === undefined ? '' : ` (${maxHeaderSize} bytes, server.maxHeaderSize)`;
  return { ...v, detail: `The trailer fields after the chunked request body are larger than this gateway accepts${limit}.` };
}

/** The response node:http is writing on this connection now (its internal field, as its own clientError default reads it). */
export function inFlightOf(socket: Duplex): ServerResponse | undefined {
  return (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;
}

/** End the connection with `answer`; it closes when the client closes or resets, or is cut after LINGER_MS (responses.ts lingerAfterEnd). */
function endWith(socket: Duplex, answer: string): void {
  socket.end(answer);
  lingerAfterEnd(socket);
}

/**
 * The server's `clientError` listener; `maxHeaderSize` is stated in the answer to a head over
 * it; `lastOf(socket)`: the response of the last request parsed on the connection (pipeline-limit.ts);
 * `held`: the gateway's own holds on reading, whose time a request timeout does not count (held-timeouts.ts);
 * `idleClosed`: called instead of counting a bad request when the timeout is a connection's that never
 * sent a byte (a preconnect, a scanner, an idle flood: nothing was requested, so nothing was bad).
 */
export function onClientError(
  bad: BadRequests,
  maxHeaderSize?: number,
  lastOf?: (socket: Duplex) => ServerResponse | undefined,
  held?: { readonly reads: HeldReads; readonly headersTimeoutMs: () => number; readonly answerAtTurn?: (res: ServerResponse, answer: () => void) => boolean },
  idleClosed?: () => void,
): (err: ParseError, socket: Duplex) => void {
  /** Connections whose error is to be answered after requests pipelined before it (not marked answered yet: those are still served). */
  const after = new WeakSet<Duplex>();
  const listener = (err: ParseError, socket: Duplex): void => {
    // After a parse error llhttp reports the same error for every later read: answer once.
    if (bad.answered(socket) || after.has(socket)) return;
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && held !== undefined && heldTimeout(socket, held.reads, lastOf?.(socket), held.headersTimeoutMs(), () => listener(err, socket))) return;
    if (err.code === 'HPE_CLOSED_CONNECTION') {
      // Bytes after a request that said Connection: close are not processed, nor answered
      // (RFC 9112 section 9.6): that request's response goes out, then the close. The socket is
      // not marked answered: the requests parsed before it (the one that said close among them)
      // are still to be served (hostile-4: '1, 2 with close, 3' pipelined left 2 unanswered and
      // the connection open for ever). llhttp repeats this error for every later read: this is idempotent.
      if (inFlightOf(socket) === undefined) socket.end();
      return;
    }
    const inFlight = inFlightOf(socket);
    const req = inFlight?.req;
    // A request parsed behind the one in flight, waiting its turn, whose body the error is in.
    const lastParsed = lastOf?.(socket);
    const waiting = inFlight !== undefined && lastParsed !== undefined && lastParsed !== inFlight && !lastParsed.req.complete ? lastParsed : undefined;
    const v = inTrailers(parseErrorVerdict(err, bad.longFirstLine(socket), maxHeaderSize, bad.headLine(socket)), req, maxHeaderSize);
    if (v === undefined || socket.destroyed || !socket.writable) {
      socket.destroy();
      return;
    }
    // The requests before it are served, then it is answered in its own place (pipeline-limit.ts
    // answerAtTurn). Written after the response in flight, the 400 was taken for the next
    // request's answer, and those between were never served (red21).
    if (waiting !== undefined) {
      const inTurn = (): void => {
        bad.count(v.reason, v.status);
        bad.markAnswered(socket);
        writeProblem(waiting, v.status, v.reason, v.detail, { Connection: 'close' });
      };
      if (held?.answerAtTurn?.(waiting, inTurn) === true) {
        after.add(socket);
        return;
      }
    }
    // Built when it is written (its Date then): it may wait behind the responses before it (review23).
    const answer = (): string => rawProblem(v.status, v.reason, v.detail);
    // Requests parsed before the error wait behind the one in flight: each is served in turn, and
    // the answer follows the last (hostile-7: it followed the first, and the others were dropped).
    const last = lastOf?.(socket);
    if (inFlight !== undefined && req?.complete === true && last !== undefined && last !== inFlight && !last.writableEnded && last.req.complete) {
      after.add(socket);
      return answerAfter(last, socket, bad, answer, () => bad.count(v.reason, v.status));
    }
    // Still answered 408 (a client that did connect for a reason is told why it is closed).
    if (v.reason === 'request_timeout' && inFlight === undefined && idleClosed !== undefined && (socket as Partial<Socket>).bytesRead === 0) idleClosed();
    else bad.count(v.reason, v.status);
    bad.markAnswered(socket);
    if (inFlight === undefined || req === undefined) return endWith(socket, answer());
    if (!req.complete) {
      // The error is in this request's body: its forwarding ends now (before undici sends it,
      // if it has not yet); the client is told so if its response has not begun.
      abandonForwarding(inFlight);
      if (inFlight.headersSent) socket.destroy();
      else endWith(socket, answer());
      return;
    }
    // The error is in a later request pipelined behind this one: its answer follows this response.
    if (inFlight.writableFinished) return endWith(socket, answer());
    if (!inFlight.headersSent) inFlight.shouldKeepAlive = false;
    inFlight.prependOnceListener('finish', () => (socket.writable ? endWith(socket, answer()) : socket.destroy()));
  };
  return listener;
}

/**
 * `answer` goes out once `last` has finished (its response says the connection closes), and the
 * connection closes; `count` counts it then. Unless `last`'s own answer closed the connection (a
 * refusal of it, its client's Connection: close): what came after it is neither processed nor
 * answered (RFC 9112 section 9.6) — until gateway-edges a 400 for those bytes followed a
 * response that had said the connection closes.
 */
function answerAfter(last: ServerResponse, socket: Duplex, bad: BadRequests, answer: () => string, count: () => void): void {
  const saysClose = (): boolean => listHas(String(last.getHeader('connection') ?? ''), 'close');
  // Before it is made to close below.
  const closedByItself = !last.shouldKeepAlive || saysClose();
  if (!last.headersSent) last.shouldKeepAlive = false;
  last.prependOnceListener('finish', () => {
    bad.markAnswered(socket);
    if (closedByItself || saysClose()) return;
    count();
    if (socket.writable) endWith(socket, answer());
    else socket.destroy();
  });
}

/** A connection whose first request line has no version (HTTP/0.9: versionless-requests.ts): 505 at once, then the close. */
export function onVersionless(bad: BadRequests): (socket: Duplex) => void {
  return (socket) => {
    if (bad.answered(socket) || !socket.writable) return;
    bad.count('bad_version', 505);
    bad.markAnswered(socket);
    endWith(socket, rawProblem(505, 'bad_version', 'Only HTTP/1.0 and HTTP/1.1 are served: the request line has no version (HTTP/0.9).'));
  };
}

/**
 * The server's `connect` listener: this is a reverse proxy, not a tunnel. node:http hands the
 * socket over at a CONNECT, out of the request flow: requests pipelined before it may still be
 * in flight or waiting (`lastOf`, pipeline-limit.ts), and the 405 follows the last of their
 * responses — written at once, it overtook them and they were never answered (hostile-8).
 */
export function onConnect(bad: BadRequests, lastOf?: (socket: Duplex) => ServerResponse | undefined): (req: IncomingMessage, socket: Duplex) => void {
  return (_req, socket) => {
    // Answered already (a CONNECT line without a version: versionless-requests.ts).
    if (bad.answered(socket)) return;
    const answer = (): string => rawProblem(405, 'method_not_allowed', 'This is a reverse proxy, not a tunnel: CONNECT is refused.', { Allow: ALLOWED_METHODS });
    const last = lastOf?.(socket) ?? inFlightOf(socket);
    if (last !== undefined && !last.writableFinished && !last.destroyed) {
      // Marked answered only then: the requests waiting behind the one in flight are still served.
      return answerAfter(last, socket, bad, answer, () => bad.count('method_not_allowed', 405));
    }
    bad.count('method_not_allowed', 405);
    bad.markAnswered(socket);
    if (socket.writable) endWith(socket, answer());
    else socket.destroy();
  };
}
