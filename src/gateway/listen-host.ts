/**
 * What a listener's host may be: an IP address or a DNS host name. `--check` refuses anything
 * else, which the listener could never bind (hostile-3: `listen.host: "not a host"` passed the
 * check and failed only at start).
 */
import { BlockList, isIP } from 'node:net';

/** A DNS name: dot-separated labels of letters, digits and inner hyphens (RFC 1123), at most 253 characters. */
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** The expected-value text of a refused host. */
export const LISTEN_HOST_EXPECTED = 'an IP address (127.0.0.1, ::1, 0.0.0.0) or a host name (localhost, gw.internal)';

export function isListenHost(host: string): boolean {
  return isIP(host) !== 0 || HOSTNAME.test(host);
}

/** An address that takes a port on every address of its family and, for `::`, of both. */
const WILDCARDS = new Set(['0.0.0.0', '::', '::0', '0:0:0:0:0:0:0:0']);

/**
 * The proxy and the admin listener on one port of one address (or a wildcard's): the second
 * to open fails EADDRINUSE, and before hostile-ops the error blamed "another process" for the
 * gateway's own listener — `--check` passed it. Host names are compared as written (no lookup).
 */
export function sameListener(a: { host: string; port: number }, b: { host: string; port: number }): boolean {
  if (a.port === 0 || a.port !== b.port) return false;
  const x = a.host.toLowerCase();
  const y = b.host.toLowerCase();
  return x === y || WILDCARDS.has(x) || WILDCARDS.has(y);
}

/** A host as a URL writes it (`0x7f.1` is 127.0.0.1, `[0:0::1]` is ::1), brackets off; undefined when no URL takes it. */
function urlHost(host: string): string | undefined {
  try {
    const h = new URL(`http://${isIP(host) === 6 ? `[${host}]` : host}/`).hostname;
    return h.startsWith('[') ? h.slice(1, -1) : h;
  } catch {
    return undefined;
  }
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** An address a connection from this host reaches itself by: loopback, `localhost`, or a wildcard (0.0.0.0 connects to the host itself). */
function isSelf(host: string): boolean {
  if (host === 'localhost' || WILDCARDS.has(host)) return true;
  const family = isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * An upstream at `hostname:port` is `listener` itself: the same port, and the same address as
 * written (after a URL's normalization), or a wildcard listener and an address of this host
 * (loopback, `localhost`), or a loopback listener and a wildcard upstream (or `localhost`, at
 * 127.0.0.1 or ::1). Such an upstream
 * sends every request back into the gateway (hostile-26: `--check` passed an upstream on the
 * proxy's own port, and every request went round until a slot ran out, answered 503
 * `concurrency`). Host names other than `localhost` are compared as written (no lookup), and
 * interface addresses are not listed: a config may be checked on another host than its own.
 */
export function reachesListener(upstream: { hostname: string; port: number }, listener: { host: string; port: number }): boolean {
  if (listener.port === 0 || upstream.port !== listener.port) return false;
  const up = urlHost(upstream.hostname);
  const own = urlHost(listener.host);
  if (up === undefined || own === undefined) return false;
  if (up === own) return true;
  // 0.0.0.0 binds IPv4 only; `::` both families (node's default dual stack).
  if (own === '0.0.0.0') return isSelf(up) && (isIP(up) !== 6 || up.startsWith('::ffff:'));
  if (WILDCARDS.has(own)) return isSelf(up);
  // `localhost` names the loopback addresses: at a listener on 127.0.0.1 or ::1 (the admin listener's default), it reaches it.
  return isSelf(own) && (WILDCARDS.has(up) || (up === 'localhost' && (own === '127.0.0.1' || own === '::1')));
}
