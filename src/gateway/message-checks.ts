/**
 * Requests node:http parsed but the gateway will not forward as they are, because their
 * framing or addressing would be read differently upstream: a protocol version other than
 * HTTP/1.0 and 1.1, a transfer coding other than chunked (RFC 9112 section 6.1: 501; the
 * gateway re-frames bodies, so a coding under chunked would reach the upstream unmarked), a
 * Transfer-Encoding on HTTP/1.0 (faulty framing by the same section), and an HTTP/1.1
 * request with no Host or several (RFC 9112 section 3.2: 400).
 */
import type { IncomingMessage } from 'node:http';
import type { BadVerdict } from './bad-requests.js';

function hostCount(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') n++;
  return n;
}

/** Why `req` is refused before routing; undefined when it may go on. */
export function messageVerdict(req: IncomingMessage): BadVerdict | undefined {
  const version = req.httpVersion;
  if (version !== '1.1' && version !== '1.0') return { status: 505, reason: 'bad_version', detail: 'Only HTTP/1.0 and HTTP/1.1 are served.' };
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) {
    if (version === '1.0') return { status: 400, reason: 'bad_transfer_encoding', detail: 'An HTTP/1.0 request cannot have a Transfer-Encoding.' };
    if (te.trim().toLowerCase() !== 'chunked') return { status: 501, reason: 'unsupported_transfer_encoding', detail: 'The request body has a transfer coding other than chunked.' };
  }
  const hosts = req.headers.host === undefined ? 0 : hostCount(req.rawHeaders);
  if (hosts === 0 && version === '1.1') return { status: 400, reason: 'missing_host', detail: 'An HTTP/1.1 request needs a Host header.' };
  if (hosts > 1) return { status: 400, reason: 'duplicate_host', detail: 'The request has more than one Host header.' };
  return undefined;
}
