/**
 * Headers across the proxy. Hop-by-hop headers (RFC 9110 section 7.6.1: Connection and every
 * header it names, Keep-Alive, TE, Trailer, Transfer-Encoding, Upgrade, and Proxy-*) belong
 * to one connection and are dropped both ways. X-Forwarded-For/-Proto/-Host and Forwarded
 * (RFC 7239) are appended to when the peer is a trusted proxy, and replaced otherwise: an
 * untrusted client cannot plant an address the upstream will believe.
 */
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { HeaderPair } from '../http/ratelimit-headers.js';
import type { TrustCheck } from '../http/trusted-proxies.js';
import { parseIp } from '../http/ip.js';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect']);

/** Names the Connection header lists, lowercased. */
function connectionNamed(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const s = new Set<string>();
  for (const part of (Array.isArray(value) ? value.join(',') : value).split(',')) {
    const n = part.trim().toLowerCase();
    if (n !== '') s.add(n);
  }
  return s;
}

function isHopByHop(name: string, named: Set<string> | undefined): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-') || named?.has(name) === true;
}

/** End-to-end headers of a message (request or response). */
export function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = connectionNamed(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !isHopByHop(name, named)) out[name] = value;
  }
  return out;
}

/**
 * A response's header block for writeHead, as a flat name/value list: `own` (the admission's
 * RateLimit headers) unless the upstream sent the same name, then the upstream's end-to-end
 * headers from `rawHeaders`, in order and with duplicates (Set-Cookie) kept.
 */
export function responseHead(raw: readonly string[], own: readonly HeaderPair[]): string[] {
  const out: string[] = [];
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 10 && raw[i]!.toLowerCase() === 'connection') {
      for (const n of connectionNamed(raw[i + 1]) ?? []) (named ??= new Set()).add(n);
    }
  }
  for (const [name, value] of own) if (!hasName(raw, name)) out.push(name, value);
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (!isHopByHop(name.toLowerCase(), named)) out.push(name, raw[i + 1]!);
  }
  return out;
}

function hasName(raw: readonly string[], name: string): boolean {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === name.length && raw[i]!.toLowerCase() === name.toLowerCase()) return true;
  return false;
}

/** The peer's address as text (IPv4-mapped IPv6 as IPv4). */
export function peerAddress(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

/** A Forwarded parameter value: a token, or a quoted string (IPv6 addresses always). */
function forwardedValue(v: string): string {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(v) ? v : `"${v.replace(/["\\]/g, '\\$&')}"`;
}

/** The request headers sent upstream: end-to-end ones, the upstream's Host, and the forwarding headers. */
export function upstreamRequestHeaders(req: IncomingMessage, upstreamHost: string, trusted: TrustCheck | undefined): OutgoingHttpHeaders {
  const h = endToEnd(req.headers);
  const peer = peerAddress(req);
  const ip = parseIp(peer);
  const believe = trusted !== undefined && ip !== undefined && trusted(ip);
  const host = req.headers.host ?? upstreamHost;
  const xff = single(req.headers['x-forwarded-for']);
  h['x-forwarded-for'] = believe && xff !== undefined && xff !== '' ? `${xff}, ${peer}` : peer;
  const proto = single(req.headers['x-forwarded-proto']);
  h['x-forwarded-proto'] = believe && proto !== undefined && proto !== '' ? proto : 'http';
  const fhost = single(req.headers['x-forwarded-host']);
  h['x-forwarded-host'] = believe && fhost !== undefined && fhost !== '' ? fhost : host;
  const element = `for=${forwardedValue(ip?.family === 6 ? `[${peer}]` : peer)};host=${forwardedValue(host)};proto=http`;
  const fwd = single(req.headers.forwarded);
  h['forwarded'] = believe && fwd !== undefined && fwd !== '' ? `${fwd}, ${element}` : element;
  h['host'] = upstreamHost;
  return h;
}
