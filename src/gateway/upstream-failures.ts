/**
 * How an upstream failure is told apart and answered (proxy.ts): undici's errors sorted into
 * what the client is told — a silent upstream 504 `upstream_timeout`, one that sent bytes
 * that are not HTTP 502 `upstream_invalid_response`, any other failure (refused, reset,
 * closed early) 502 `upstream_unreachable` — and described for the log.
 */
import type { ServerResponse } from 'node:http';
import { listElements } from './header-lists.js';
import { headBytes } from './message-checks.js';
import { writeProblem } from './responses.js';

/**
 * The error codes of a silent upstream: before the headers a 504, during the body a cut. A
 * connect that ran out of the upstream's timeout is one too (hostile-27; it was a 502), and so is
 * the pool's deadline for the final head (UPSTREAM_TIMEOUT, upstream-trip.ts).
 */
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UPSTREAM_TIMEOUT']);

/**
 * What went wrong upstream: `error`, no connection or one that broke (refused, reset, closed
 * before the response was whole); `timeout`, silence; `invalid`, bytes that are not an HTTP
 * response.
 */
export type UpstreamFailure = 'error' | 'timeout' | 'invalid';

/** The reason a client is given for each. */
const FAILURE_REASONS = { error: 'upstream_unreachable', timeout: 'upstream_timeout', invalid: 'upstream_invalid_response' } as const;

export function failureReason(kind: UpstreamFailure): (typeof FAILURE_REASONS)[UpstreamFailure] {
  return FAILURE_REASONS[kind];
}

const FAILURE_DETAILS = { error: 'The upstream could not be reached.', timeout: 'The upstream did not answer in time.', invalid: 'The upstream answered with an invalid HTTP response.' } as const;

/** undici's codes for a response whose framing does not add up, or whose head is over its size limit. */
const INVALID_CODES = new Set(['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'UND_ERR_HEADERS_OVERFLOW']);

/**
 * undici's errors for a response that is not HTTP: its parser's (an HTTPParserError, whose
 * `code` undici leaves undefined: a garbage status line, a malformed header, broken
 * chunking), a body that disagrees with its Content-Length (two of them, say: a close before
 * the end is 'other side closed', an `error`), a head over its limit, a 100 Continue (which
 * undici cannot read past: 'bad response', below) or an upgrade nobody asked for ('bad upgrade').
 */
export function failureOf(err: Error & { code?: string }): UpstreamFailure {
  const code = err.code ?? '';
  if (TIMEOUT_CODES.has(code)) return 'timeout';
  if (err.name === 'HTTPParserError' || INVALID_CODES.has(code) || (code === 'UND_ERR_SOCKET' && (err.message === 'bad response' || err.message === 'bad upgrade'))) return 'invalid';
  return 'error';
}

/**
 * undici's HTTP/1 client (7.x, client-h1.js onHeadersComplete; since its PR #201) destroys the
 * connection at any response head with status 100, before a handler sees it, with a
 * SocketError 'bad response' — an unsolicited `100 Continue` (the gateway never forwards
 * `Expect`) ahead of the final response, which RFC 9110 section 15.2 says a client must read
 * past. Its other 'bad response' (a response with no request in flight) reaches no request.
 * Other 1xx (102, 103 Early Hints) are read, and dropped by the forwarder (proxy.ts).
 */
const BAD_RESPONSE = 'UND_ERR_SOCKET: bad response';
const INTERIM_100 = `${BAD_RESPONSE} (a 100 Continue before the final response, which undici cannot read past)`;
const INTERIM_100_DETAIL = 'The upstream sent 100 Continue before its final response; the gateway\'s HTTP client (undici) cannot read past it.';

/** Answer a failure that came before the response started: 504 for a silence, else 502. `error`: describe()'s, for a precise detail. */
export function writeFailure(res: ServerResponse, kind: UpstreamFailure, error?: string): void {
  writeProblem(res, kind === 'timeout' ? 504 : 502, FAILURE_REASONS[kind], error === INTERIM_100 ? INTERIM_100_DETAIL : FAILURE_DETAILS[kind]);
}

/** An upstream error for the log: undici's code and its message (a parser's error has no code, its message says what it found). */
export function describe(err: Error & { code?: string }): string {
  const text = err.code === undefined ? err.message : `${err.code}: ${err.message}`;
  return text === BAD_RESPONSE ? INTERIM_100 : text;
}

/** A character node:http refuses in a status message (its checkInvalidHeaderChar). */
const BAD_REASON = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Why a final response's reason phrase cannot be relayed (undefined: it can). RFC 9112
 * section 4 allows HTAB, SP, VCHAR and obs-text in it; undici's parser lets a control
 * character through, which node:http then refuses to write — an invalid response, as a
 * header value with one is (undici refuses those itself).
 */
export function reasonPhraseFault(text: string): string | undefined {
  return BAD_REASON.test(text) ? `a control character in the reason phrase ${JSON.stringify(text)}` : undefined;
}

/**
 * Why a response's body cannot be relayed as it came (undefined: it can): a transfer coding
 * besides chunked (`Transfer-Encoding: gzip, chunked`; `gzip` alone, a body read until the
 * close). undici takes the chunking off and hands the rest over as it is; Transfer-Encoding is
 * hop-by-hop, and the gateway, which frames the response afresh, relayed the gzip bytes as the
 * content itself, a 200 the client cannot read (hostile-11). `identity` (RFC 2616's, no coding)
 * is none.
 */
export function transferCodingFault(raw: readonly (string | Buffer)[]): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length !== 17 || raw[i]!.toString('latin1').toLowerCase() !== 'transfer-encoding') continue;
    const value = raw[i + 1]!.toString('latin1');
    for (const coding of listElements(value)) {
      if (coding !== 'chunked' && coding !== 'identity') return `a transfer coding other than chunked (Transfer-Encoding: ${value}), which the gateway cannot relay`;
    }
  }
  return undefined;
}

const BODY_HEADERS = new Set(['content-length', 'content-type', 'transfer-encoding']);

/**
 * An upstream's 431 without a body (node:http's own for a head over its maxHeaderSize, 16 kB by
 * default, the gateway's too): the gateway accepted the head, and its forwarding headers took
 * it over the upstream's limit. Relayed as it was, the client got a bare 431 and no reason
 * (hostile pass); it is answered 431 `upstream_header_too_large` in problem+json, with the
 * upstream's other headers (`head`, as relayed).
 */
export function writeHeadTooLarge(res: ServerResponse, head: readonly string[]): void {
  for (let i = 0; i < head.length; i += 2) if (!BODY_HEADERS.has(head[i]!.toLowerCase())) res.appendHeader(head[i]!, head[i + 1]!);
  const detail =
    `The upstream refused the request's headers as too large (431). The request head was about ${headBytes(res.req)} bytes ` +
    '(counted from its parsed request line and headers), and the gateway adds its forwarding headers (X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host, Forwarded): send fewer or shorter headers.';
  writeProblem(res, 431, 'upstream_header_too_large', detail);
}
