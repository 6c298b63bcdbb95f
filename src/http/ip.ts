/**
 * IP addresses as tenant keys: strict parsing (node:net's validators), IPv4-mapped IPv6
 * folded to IPv4 (a dual-stack socket reports `::ffff:192.0.2.1` for an IPv4 client), zone
 * ids dropped, and IPv6 grouped by prefix: one IPv6 host usually owns a whole /64, so
 * keying by address would hand it 2^64 buckets.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** A parsed address: `text` is canonical (IPv4 dotted, IPv6 eight lowercase groups). */
export interface ParsedIp {
  readonly family: 4 | 6;
  readonly text: string;
  /** IPv6 only: the eight 16-bit groups. */
  readonly groups: readonly number[] | undefined;
}

/** Longest text we try to parse: a bracketed IPv6 with an embedded IPv4, a zone and a port fits. */
const MAX_LENGTH = 100;

/** Parse a bare address (no port, no brackets). Undefined when it is not one. */
export function parseIp(input: string): ParsedIp | undefined {
  if (input.length === 0 || input.length > MAX_LENGTH) return undefined;
  if (isIPv4(input)) return { family: 4, text: input, groups: undefined };
  const zone = input.indexOf('%');
  const bare = zone < 0 ? input : input.slice(0, zone);
  if (!isIPv6(bare)) return undefined;
  const groups = expandIPv6(bare);
  if (groups === undefined) return undefined;
  // ::ffff:a.b.c.d (IPv4-mapped): the client is an IPv4 host.
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    const hi = groups[6]!;
    const lo = groups[7]!;
    return { family: 4, text: `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, groups: undefined };
  }
  return { family: 6, text: groups.map((g) => g.toString(16)).join(':'), groups };
}

/**
 * Parse a node as proxies write it: `192.0.2.1`, `192.0.2.1:8080`, `2001:db8::1`,
 * `[2001:db8::1]`, `[2001:db8::1]:8080`. Undefined for anything else (`unknown`, an
 * obfuscated identifier, garbage).
 */
export function parseNode(input: string): ParsedIp | undefined {
  if (input.length === 0 || input.length > MAX_LENGTH) return undefined;
  if (input.charCodeAt(0) === 0x5b /* [ */) {
    const close = input.indexOf(']');
    if (close < 0) return undefined;
    const rest = input.slice(close + 1);
    if (rest !== '' && !isPort(rest)) return undefined;
    const inner = input.slice(1, close);
    return inner.includes(':') ? parseIp(inner) : undefined;
  }
  const direct = parseIp(input);
  if (direct !== undefined) return direct;
  // IPv4 with a port: exactly one colon.
  const colon = input.indexOf(':');
  if (colon > 0 && colon === input.lastIndexOf(':') && isPort(input.slice(colon))) {
    const host = input.slice(0, colon);
    if (isIPv4(host)) return { family: 4, text: host, groups: undefined };
  }
  return undefined;
}

function isPort(s: string): boolean {
  // ':' followed by 1-5 digits.
  if (s.length < 2 || s.length > 6 || s.charCodeAt(0) !== 0x3a) return false;
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** The eight groups of a valid IPv6 text (validated by the caller with isIPv6). */
function expandIPv6(text: string): number[] | undefined {
  let t = text;
  const lastColon = t.lastIndexOf(':');
  const last = t.slice(lastColon + 1);
  if (last.includes('.')) {
    // Embedded IPv4 (`::ffff:192.0.2.1`): rewrite it as two hex groups.
    const p = last.split('.').map(Number);
    if (p.length !== 4) return undefined;
    t = `${t.slice(0, lastColon + 1)}${((p[0]! << 8) | p[1]!).toString(16)}:${((p[2]! << 8) | p[3]!).toString(16)}`;
  }
  const hex = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const double = t.indexOf('::');
  let groups: number[];
  if (double < 0) {
    groups = hex(t);
  } else {
    const left = hex(t.slice(0, double));
    const right = hex(t.slice(double + 2));
    const fill = 8 - left.length - right.length;
    if (fill < 0) return undefined;
    groups = [...left, ...new Array<number>(fill).fill(0), ...right];
  }
  if (groups.length !== 8 || groups.some((g) => !(g >= 0 && g <= 0xffff))) return undefined;
  return groups;
}

/**
 * The key an address is limited under: an IPv4 address masked to `ipv4Prefix` bits, an
 * IPv6 address masked to `ipv6Prefix` bits, written `network/prefix` when masked.
 */
export function addressKey(ip: ParsedIp, ipv4Prefix: number, ipv6Prefix: number): string {
  if (ip.family === 4) {
    if (ipv4Prefix >= 32) return ip.text;
    const n = ip.text.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
    const masked = ipv4Prefix === 0 ? 0 : n - (n % 2 ** (32 - ipv4Prefix));
    return `${[masked >>> 24, (masked >>> 16) & 255, (masked >>> 8) & 255, masked & 255].join('.')}/${ipv4Prefix}`;
  }
  if (ipv6Prefix >= 128) return ip.text;
  const g = ip.groups!;
  const out: string[] = [];
  for (let i = 0; i < 8; i++) {
    const bits = ipv6Prefix - i * 16;
    const v = bits >= 16 ? g[i]! : bits <= 0 ? 0 : g[i]! & (0xffff << (16 - bits)) & 0xffff;
    out.push(v.toString(16));
  }
  return `${out.join(':')}/${ipv6Prefix}`;
}

/**
 * `ip:<address>` (any spelling parseIp reads) as the key the address is metered under, with the
 * prefixes given; undefined for a key that is not `ip:` and an address.
 */
export function meteredIpKey(key: string, ipv4Prefix: number, ipv6Prefix: number): string | undefined {
  if (!key.startsWith('ip:')) return undefined;
  const ip = parseIp(key.slice(3));
  return ip === undefined ? undefined : `ip:${addressKey(ip, ipv4Prefix, ipv6Prefix)}`;
}
