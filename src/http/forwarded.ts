/**
 * Walking proxy headers from the right. Each trusted proxy appends the address of the peer
 * it received the request from, so the rightmost entries are the only ones a trusted party
 * wrote: the walk starts at the socket peer and moves left one hop at a time for as long as
 * the address it has reached is trusted. The first untrusted address is the client.
 *
 * Bounded and total: at most `maxHops` entries are read, each scanned with `lastIndexOf`
 * (no split of the whole header), an entry longer than a node can be is malformed, and a
 * malformed, empty or `unknown` entry ends the walk at the last address reached (the
 * trusted proxy that forwarded it). Nothing here throws on input.
 */
import type { ParsedIp } from './ip.js';
import { parseNode } from './ip.js';
import type { TrustCheck } from './trusted-proxies.js';
import { deepFreeze } from '../core/deep-freeze.js';

/** Which header trusted proxies write. */
export type ProxyHeader = 'x-forwarded-for' | 'forwarded';

export const PROXY_HEADERS: readonly ProxyHeader[] = deepFreeze(['x-forwarded-for', 'forwarded']);

/** Longest element considered: an X-Forwarded-For entry, or a Forwarded element with its parameters. */
const MAX_ENTRY = { 'x-forwarded-for': 128, forwarded: 512 } as const;

/**
 * The client address: `peer` when it is untrusted or no header is present; otherwise the
 * first untrusted address walking `header` from the right (see the module comment).
 */
export function clientFromHeader(peer: ParsedIp, header: string | undefined, kind: ProxyHeader, trusted: TrustCheck, maxHops: number): ParsedIp {
  let current = peer;
  if (header === undefined || !trusted(current)) return current;
  const maxEntry = MAX_ENTRY[kind];
  let end = header.length;
  for (let hop = 0; hop < maxHops && end > 0; hop++) {
    const start = header.lastIndexOf(',', end - 1) + 1;
    if (end - start > maxEntry) return current;
    const entry = header.slice(start, end).trim();
    end = start - 1;
    const next = kind === 'forwarded' ? forwardedFor(entry) : parseNode(entry);
    if (next === undefined) return current;
    current = next;
    if (!trusted(current)) return current;
  }
  return current;
}

/** A parameter of one Forwarded element (`for`, `proto`, `host`; RFC 7239 section 4), unquoted; undefined when absent. */
export function forwardedParam(element: string, name: string): string | undefined {
  let from = 0;
  while (from < element.length) {
    let semi = element.indexOf(';', from);
    if (semi < 0) semi = element.length;
    const pair = element.slice(from, semi).trim();
    from = semi + 1;
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim().toLowerCase() !== name) continue;
    const value = pair.slice(eq + 1).trim();
    if (value.length < 2 || !value.startsWith('"') || !value.endsWith('"')) return value;
    const inner = value.slice(1, -1);
    return inner.includes('\\') ? inner.replace(/\\(.)/g, '$1') : inner;
  }
  return undefined;
}

/** The `for` node of one Forwarded element, or undefined. A quoted IPv4 with a port and a bracketed IPv6 are the forms RFC 7239 allows; parseNode takes both. */
export function forwardedFor(element: string): ParsedIp | undefined {
  const value = forwardedParam(element, 'for');
  return value === undefined ? undefined : parseNode(value);
}
