/**
 * Max-Forwards on OPTIONS and TRACE (RFC 9110 section 7.6.2): a request that reaches the
 * gateway with `Max-Forwards: 0` is not forwarded — the gateway is its final recipient and
 * answers it (OPTIONS: 200 with the route's `Allow`; TRACE, where a route allows it: 200
 * `message/http`, the request as received, credentials left out) — and a greater value is
 * forwarded one less (forward-headers.ts). Until hostile-16 both went upstream unchanged, so a
 * client could not ask the gateway itself, nor count the hops behind it. Other methods' Max-Forwards
 * is forwarded as it came (the RFC lets a recipient ignore it). One the client names in Connection
 * is for this hop, the gateway (RFC 9110 section 7.6.1): obeyed at 0, and above 0 removed, not
 * forwarded one less (forward-headers.ts drops what Connection names).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BadVerdict } from './bad-requests.js';
import { unreadBodyCloses } from './body-reader.js';
import { ALLOWED_METHODS, lingerOnClose } from './responses.js';
import type { ResolvedRoute } from './resolved-config.js';

/** Whether Max-Forwards means anything on `method` (RFC 9110 section 7.6.2). */
export const hopCounted = (method: string | undefined): boolean => method === 'OPTIONS' || method === 'TRACE';

/**
 * A request's Max-Forwards (RFC 9110: 1*DIGIT, any length): undefined without one; NaN when it
 * is not one decimal number (two copies, a sign, a list); a number (0 exactly when it is 0).
 */
export function maxForwardsOf(req: IncomingMessage): number | undefined {
  let value: string | undefined;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length !== 12 || raw[i]!.toLowerCase() !== 'max-forwards') continue;
    if (value !== undefined) return NaN;
    value = raw[i + 1]!;
  }
  if (value === undefined) return undefined;
  return /^\d+$/.test(value) ? Number(value) : NaN;
}

/**
 * The header value forwarded for a Max-Forwards of `value` (digits, not 0): one less, exactly,
 * whatever its length, in one pass over the digits. (BigInt's parse and print grow faster than
 * the length: a 16 kB value cost some 1.3 ms of the loop per forwarded request.)
 */
export function decremented(value: string): string {
  let digits = value;
  let start = 0;
  while (start < digits.length - 1 && digits.charCodeAt(start) === 48) start++;
  digits = digits.slice(start);
  if (digits.length <= 15) return String(Number(digits) - 1);
  let i = digits.length - 1;
  while (digits.charCodeAt(i) === 48) i--; // a digit other than 0 exists: the value is not 0
  const head = digits.slice(0, i) + String.fromCharCode(digits.charCodeAt(i) - 1);
  const out = head + '9'.repeat(digits.length - 1 - i);
  return out.charCodeAt(0) === 48 ? out.slice(1) : out;
}

const badMaxForwards: BadVerdict = { status: 400, reason: 'bad_header', detail: 'Max-Forwards must be one decimal number (RFC 9110 section 7.6.2).' };

/** Credentials and cookies are never reflected by TRACE (RFC 9110 section 9.3.8). */
const NOT_REFLECTED = new Set(['authorization', 'proxy-authorization', 'cookie']);

/**
 * What of a route this module reads: its config's methods. Not route-table.ts's live route,
 * which would close an import cycle (route-table -> forward-headers -> max-forwards).
 */
interface HopRoute {
  readonly config: Pick<ResolvedRoute, 'methods' | 'allowTrace'>;
}

/** The methods `route` serves, as an Allow value. */
function allowOf(route: HopRoute): string {
  const methods = route.config.methods;
  const listed = methods === undefined ? ALLOWED_METHODS.split(', ') : [...methods];
  if (listed.includes('GET') && !listed.includes('HEAD')) listed.push('HEAD');
  if (route.config.allowTrace === true && !listed.includes('TRACE')) listed.push('TRACE');
  return listed.join(', ');
}

/**
 * An OPTIONS or TRACE (already allowed on `route`) that must not be forwarded, answered here:
 * `'answered'`; a malformed Max-Forwards: its verdict (400); else `'forward'`.
 */
export function answerLastHop(route: HopRoute, req: IncomingMessage, res: ServerResponse, maxBodySize: number): 'answered' | 'forward' | BadVerdict {
  if (!hopCounted(req.method)) return 'forward';
  const n = maxForwardsOf(req);
  if (n === undefined) return 'forward';
  if (Number.isNaN(n)) return badMaxForwards;
  if (n > 0) return 'forward';
  closeIfBodyUnread(req, res, maxBodySize);
  if (req.method === 'OPTIONS') {
    res.writeHead(200, ['Allow', allowOf(route), 'Content-Length', '0']);
    res.end();
    return 'answered';
  }
  let body = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (!NOT_REFLECTED.has(raw[i]!.toLowerCase())) body += `${raw[i]}: ${raw[i + 1]}\r\n`;
  body += '\r\n';
  res.writeHead(200, ['Content-Type', 'message/http', 'Content-Length', String(Buffer.byteLength(body, 'latin1'))]);
  res.end(body, 'latin1');
  return 'answered';
}

/**
 * `OPTIONS *` (or its absolute form), a question about the server (RFC 9110 section 9.3.7): answered
 * here, 200 with Allow and Content-Length: 0 as an OPTIONS at Max-Forwards: 0 is (a 204 may not state
 * the length, section 8.6; it was 204 until session 17). Its Max-Forwards is judged as on a route —
 * a malformed one is 400 there and was 200 here until session 18 — though any valid count ends here.
 */
export function answerServerOptions(req: IncomingMessage, res: ServerResponse, maxBodySize: number): 'answered' | BadVerdict {
  if (Number.isNaN(maxForwardsOf(req))) return badMaxForwards;
  closeIfBodyUnread(req, res, maxBodySize);
  res.writeHead(200, ['Allow', ALLOWED_METHODS, 'Content-Length', '0']);
  res.end();
  return 'answered';
}

/** An answer written before the request's body is read closes the connection when that body cannot be skipped (body-reader.ts). */
function closeIfBodyUnread(req: IncomingMessage, res: ServerResponse, maxBodySize: number): void {
  if (!unreadBodyCloses(req, maxBodySize)) return;
  res.setHeader('Connection', 'close');
  lingerOnClose(res);
}
