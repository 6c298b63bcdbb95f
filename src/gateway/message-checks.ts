/**
 * Requests node:http parsed but the gateway will not forward as they are, because their
 * framing or addressing would be read differently upstream: a protocol version other than
 * HTTP/1.0 and 1.1, a Transfer-Encoding the gateway cannot frame or forward (transferCodingVerdict), a
 * Transfer-Encoding on HTTP/1.0 (faulty framing by RFC 9112 section 6.1), an HTTP/1.1
 * request with no Host or several, and a Host that is not `host[:port]` (RFC 9112 section
 * 3.2: 400 for each). The Host value goes on in X-Forwarded-Host and Forwarded, where an
 * upstream that builds links or routes by host reads it: `evil@gw`, `gw/x` or `a b` there
 * would be read differently by each (hostile-3 H1).
 */
import type { IncomingMessage } from 'node:http';
import type { BadVerdict } from './bad-requests.js';
import { listElements } from './header-lists.js';

function hostCount(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') n++;
  return n;
}

/**
 * RFC 3986 `host [ ":" port ]`: an IP literal in brackets, or a reg-name (unreserved,
 * pct-encoded, sub-delims; an IPv4 address is one); empty is allowed (RFC 9112 section 3.2:
 * a target without an authority). But no comma, a sub-delim no host name has: it separates
 * the values of X-Forwarded-Host, where `Host: gw,evil` would be two hosts to an upstream,
 * and one that takes the last (Rails) would build its links on `evil` (hostile-5).
 */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|\[v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+;=:]+\]|(?:[A-Za-z0-9\-._~!$&'()*+;=]|%[0-9A-Fa-f]{2})*)(?::[0-9]*)?$/;

/** The last Host value that passed HOST: nearly every request names the same host, and the test is a regex run (~0.25 µs a request in the refusal profile). */
let lastGoodHost: string | undefined;

/** A port at the end of a Host (after an IP literal's `]`, if any). */
const PORT = /:([0-9]+)$/;

function validHost(host: string): boolean {
  if (host === lastGoodHost) return true;
  if (!HOST.test(host)) return false;
  // RFC 3986's port is any digits, but a port over 65535 names no server, and a URL parser
  // refuses it (WHATWG's throws): `Host: gw:99999` went on in X-Forwarded-Host, where an
  // upstream that builds its URLs from it fails (hostile-8).
  const port = PORT.exec(host)?.[1];
  if (port !== undefined && Number(port) > 65_535) return false;
  // Nor a host a WHATWG URL parser refuses: it decodes escapes and throws at a forbidden host
  // code point (`gw%2fadmin` is the `gw/admin` refused above; `a%20b`, `%00`), a bad IPv4
  // (`999.1.1.1`), punycode or IPvFuture — what X-Forwarded-Host carries to an upstream that
  // builds links with new URL() would make it fail (hostile-13). Empty stays allowed.
  if (host !== '' && !URL.canParse(`http://${host}/`)) return false;
  lastGoodHost = host;
  return true;
}

/**
 * Passes through sluice gateways after which a request is taken for a loop: an upstream that
 * leads back to the gateway (its own port, a name for this host, a chain closing on itself).
 * Each pass adds `Via: <version> sluice` (forward-headers.ts); a loop otherwise fans one
 * request out into a request per slot, each held until its queue timeout. No honest chain
 * has this many sluice gateways in it.
 */
export const MAX_SLUICE_HOPS = 10;

/**
 * The Via entries (RFC 9110 section 7.6.3: `protocol received-by [comment]`, comma-separated;
 * a comment may hold commas) whose received-by is `sluice`, the pseudonym this gateway writes.
 */
export function sluiceHops(via: string | undefined): number {
  if (via === undefined || !/sluice/i.test(via)) return 0;
  let hops = 0;
  let depth = 0;
  let start = 0;
  const entry = (end: number): void => {
    const words = via.slice(start, end).trim().split(/[ \t]+/);
    if (words.length >= 2 && words[1]!.toLowerCase() === 'sluice') hops++;
  };
  for (let i = 0; i < via.length; i++) {
    const c = via.charCodeAt(i);
    if (c === 0x28) depth++;
    else if (c === 0x29 && depth > 0) depth--;
    else if (c === 0x2c && depth === 0) {
      entry(i);
      start = i + 1;
    }
  }
  entry(via.length);
  return hops;
}

/** RFC 9110 section 10.1.4: `token *( OWS ";" OWS token BWS "=" BWS ( token / quoted-string ) )`, lowercased (listElements). */
const TRANSFER_CODING = /^[!#$%&'*+.^_`|~0-9a-z-]+(?:[ \t]*;[ \t]*[!#$%&'*+.^_`|~0-9a-z-]+[ \t]*=[ \t]*(?:[!#$%&'*+.^_`|~0-9a-z-]+|"(?:[\t !#-[\]-~\x80-\xff]|\\[\t -~\x80-\xff])*"))*$/;

/** Said of a request whose last transfer coding is not chunked, here and where llhttp finds it first (client-errors.ts). */
export const CHUNKED_NOT_FINAL: BadVerdict = {
  status: 400,
  reason: 'bad_transfer_encoding',
  detail: 'The request body\'s final transfer coding is not chunked, so its length cannot be determined (RFC 9112 section 6.3).',
};

/**
 * What a request's Transfer-Encoding (its lines joined by node:http) is refused for, as RFC
 * 9112 sorts it: a value that is no list of transfer codings (empty, `"chunked"`, `chunked
 * chunked`, `chunked` + NBSP) is malformed, 400; a last coding other than plain `chunked`
 * (`gzip`, `xchunked`, `chunked;x=1`) leaves the body's length unknown, 400 (section 6.3);
 * `chunked` twice is 400 (section 6.1); a coding before a final `chunked` (`gzip, chunked`) is
 * one this gateway does not implement, 501 (section 6.1) — it re-frames bodies, so a coding
 * under chunked would reach the upstream unmarked. Until gateway-edges each was 501, "a
 * transfer coding other than chunked", malformed and unframeable alike. Empty list elements
 * count for nothing (RFC 9110 section 5.6.1); a quoted parameter holding a comma is taken
 * for two elements, and malformed.
 */
export function transferCodingVerdict(te: string): BadVerdict | undefined {
  const codings = listElements(te);
  if (codings.length === 0 || !codings.every((c) => TRANSFER_CODING.test(c))) {
    return { status: 400, reason: 'bad_transfer_encoding', detail: 'The Transfer-Encoding header is malformed: it is not a list of transfer codings (RFC 9112 section 6.1).' };
  }
  if (codings[codings.length - 1] !== 'chunked') return CHUNKED_NOT_FINAL;
  if (codings.indexOf('chunked') !== codings.length - 1) return { status: 400, reason: 'bad_transfer_encoding', detail: 'The request body is chunked more than once (RFC 9112 section 6.1).' };
  if (codings.length > 1) return { status: 501, reason: 'unsupported_transfer_encoding', detail: 'The request body has a transfer coding before chunked (such as gzip), which this gateway does not implement.' };
  return undefined;
}

/**
 * The request head's size, bytes, rebuilt from what node:http parsed (it does not say how many
 * bytes the head took): request line, header lines as "name: value" (the value trimmed, as
 * parsed: as the gateway writes them upstream), blank line. Other whitespace around a value, or
 * obs-fold, made the head as sent that much longer or shorter.
 */
export function headBytes(req: IncomingMessage): number {
  // `METHOD SP target SP HTTP/x.y CRLF` and the head's closing CRLF, summed: no string built per request.
  let n = (req.method ?? '').length + (req.url ?? '').length + req.httpVersion.length + 11;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) n += raw[i]!.length + raw[i + 1]!.length + 4;
  return n;
}

/** Why `req` is refused before routing (a head over `maxHeaderSize` bytes among the reasons); undefined when it may go on. */
export function messageVerdict(req: IncomingMessage, maxHeaderSize: number): BadVerdict | undefined {
  const version = req.httpVersion;
  if (version !== '1.1' && version !== '1.0') return { status: 505, reason: 'bad_version', detail: 'Only HTTP/1.0 and HTTP/1.1 are served.' };
  // llhttp holds a head to maxHeaderSize counting its target, names and values only: 15,000
  // lines `a:` CRLF made a 60 kB head of "16 kB", each line a header to check and forward (red22).
  if (headBytes(req) > maxHeaderSize) {
    return { status: 431, reason: 'headers_too_large', detail: `The request headers are larger than this gateway accepts (${maxHeaderSize} bytes, server.maxHeaderSize).` };
  }
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) {
    if (version === '1.0') return { status: 400, reason: 'bad_transfer_encoding', detail: 'An HTTP/1.0 request cannot have a Transfer-Encoding.' };
    const coding = transferCodingVerdict(te);
    if (coding !== undefined) return coding;
  }
  const hosts = req.headers.host === undefined ? 0 : hostCount(req.rawHeaders);
  if (hosts === 0 && version === '1.1') return { status: 400, reason: 'missing_host', detail: 'An HTTP/1.1 request needs a Host header.' };
  if (hosts > 1) return { status: 400, reason: 'duplicate_host', detail: 'The request has more than one Host header.' };
  if (hosts === 1 && !validHost(req.headers.host!)) return { status: 400, reason: 'bad_host', detail: 'The Host header is not a host with an optional port (RFC 9112 section 3.2).' };
  if (sluiceHops(req.headers.via) >= MAX_SLUICE_HOPS) {
    return { status: 508, reason: 'loop_detected', detail: `The request has passed through sluice gateways ${MAX_SLUICE_HOPS} times (its Via header): an upstream leads back to a gateway.` };
  }
  return undefined;
}
