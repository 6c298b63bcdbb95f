/**
 * The host a request is for, as the upstream's X-Forwarded-Host and Forwarded host= tell it:
 * an absolute-form target naming this gateway (its authority replaces Host: RFC 9112 section
 * 3.2.2), or the address a client without a Host header connected to (HTTP/1.0) — never the
 * upstream's own address, nor a Host that disagrees with the target (hostile-4).
 */
import type { IncomingMessage } from 'node:http';
import type { BadVerdict } from './bad-requests.js';

/** The address and port the client connected to, as a Host header writes them. */
export function reachedAt(req: IncomingMessage): string {
  const a = req.socket.localAddress ?? '';
  const host = a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a.includes(':') ? `[${a}]` : a;
  return `${host}:${req.socket.localPort ?? ''}`;
}

/** The ports a URL leaves out of its `host` when its scheme's default (WHATWG URL special schemes). */
const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443', 'ftp:': '21' };

/**
 * Whether `u` names `authority` (`host:port`, as reachedAt writes it): the same host and port,
 * a port the target leaves out being its scheme's default. The URL parser drops a default port
 * (`http://gw:80/` has host `gw`), so a gateway listening on port 80 took every absolute-form
 * target naming it — with `:80` or without — for another host's (hostile-19).
 */
function sameAuthority(u: URL, authority: string): boolean {
  const colon = authority.lastIndexOf(':');
  if (colon < 0 || authority.endsWith(']')) return false;
  const port = u.port === '' ? DEFAULT_PORTS[u.protocol] : u.port;
  return port === authority.slice(colon + 1) && u.hostname.toLowerCase() === authority.slice(0, colon).toLowerCase();
}

/**
 * An absolute-form target naming the gateway's own listener, as origin form (its path as the
 * client wrote it, for canonicalTarget to judge: the URL parser's own normalising, which reads
 * `\` as `/`, is not this gateway's); otherwise undefined. The Host header is not trusted for
 * this: the client writes both.
 */
export function ownTarget(url: string, host: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' || !sameAuthority(u, host)) return undefined;
  return pathOf(url);
}

/**
 * The origin form of an absolute-form `http://` target, its path and query as the client wrote
 * them (`/` if none), whatever its authority; undefined for any other text.
 */
export function pathOf(url: string): string | undefined {
  if (!/^http:\/\//i.test(url)) return undefined;
  const rest = url.slice(7).search(/[/?#]/);
  if (rest < 0) return '/';
  const target = url.slice(7 + rest);
  return target.startsWith('/') ? target : `/${target}`;
}

/** An absolute-form target with userinfo: refused wherever it comes. */
export const USERINFO_TARGET: BadVerdict = { status: 400, reason: 'bad_target', detail: 'The request target has userinfo (user@host), which HTTP forbids (RFC 9110 section 4.2.4).' };

/** Whether an absolute-form `http://` target has userinfo (`http://user@host/`). */
export function hasUserinfo(url: string): boolean {
  return /^http:\/\/[^/?#]*@/i.test(url);
}

/**
 * An absolute-form target naming this gateway — its listener's `host:port` (`listener`), or
 * the address this connection reached: a listener on 0.0.0.0 or :: is reached at each of the
 * machine's addresses, and a client naming the one it connected to was refused as foreign
 * (hostile-8), though a server must accept the absolute form (RFC 9112 section 3.2.2). Its
 * authority and its origin-form target; otherwise undefined.
 */
export function ownAbsolute(url: string, listener: string, req: IncomingMessage): { authority: string; target: string } | undefined {
  for (const authority of [listener, reachedAt(req)]) {
    const target = ownTarget(url, authority);
    if (target !== undefined) return { authority, target };
  }
  return undefined;
}

/**
 * An absolute-form target naming this gateway's authority (as ownAbsolute does) with another
 * scheme — `https://gw:8080/` on its plain-http listener: 421 `foreign_scheme`, the answer
 * RFC 9110 section 7.4 gives a request this server is not authoritative for (an https origin
 * needs a TLS connection with its certificate). It was 400 `foreign_target`, "for other
 * hosts", which it is not (hostile-9). Undefined for any other target.
 */
export function foreignScheme(url: string, listener: string, req: IncomingMessage): BadVerdict | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol === 'http:') return undefined;
  if (!sameAuthority(u, listener) && !sameAuthority(u, reachedAt(req))) return undefined;
  const scheme = u.protocol.slice(0, -1);
  return {
    status: 421,
    reason: 'foreign_scheme',
    detail: `The target names this gateway's address with the scheme ${scheme}:, which this listener does not serve (it serves plain http): send the path alone, or http://${u.host}/...`,
  };
}
