/**
 * The client address of a request: the socket peer, unless trusted proxies are configured,
 * in which case the proxy header is walked from the right (see forwarded.ts). Without a
 * trust list, proxy headers are never read: a spoofed X-Forwarded-For changes nothing.
 */
import type { ProxyHeader } from './forwarded.js';
import { clientFromHeader } from './forwarded.js';
import type { ParsedIp } from './ip.js';
import { addressKey, parseIp } from './ip.js';
import type { TrustCheck } from './trusted-proxies.js';

/** What a request must offer to be admitted: its headers and its socket. */
export interface HttpRequestLike {
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly socket: { readonly remoteAddress?: string | undefined } | null | undefined;
}

export interface ClientIpConfig {
  readonly trusted: TrustCheck | undefined;
  readonly header: ProxyHeader;
  readonly maxHops: number;
  readonly ipv4Prefix: number;
  readonly ipv6Prefix: number;
}

/** Key used when the socket has no address (already closed). */
export const UNKNOWN_ADDRESS = 'unknown';

/** The client's address, or undefined when the socket has none. */
export function clientAddress(req: HttpRequestLike, cfg: ClientIpConfig): ParsedIp | undefined {
  const raw = req.socket?.remoteAddress;
  const peer = raw === undefined ? undefined : parseIp(raw);
  if (peer === undefined || cfg.trusted === undefined) return peer;
  return clientFromHeader(peer, headerText(req.headers[cfg.header]), cfg.header, cfg.trusted, cfg.maxHops);
}

/** The client's address key, grouped by prefix (IPv6 /64 by default). */
export function clientKey(req: HttpRequestLike, cfg: ClientIpConfig): string {
  const ip = clientAddress(req, cfg);
  return ip === undefined ? UNKNOWN_ADDRESS : addressKey(ip, cfg.ipv4Prefix, cfg.ipv6Prefix);
}

/** One header value; repeated fields (an array) are joined as a list, as node does for most fields. */
export function headerText(value: string | readonly string[] | undefined): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  return value.join(', ');
}
