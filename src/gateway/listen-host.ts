/**
 * What a listener's host may be: an IP address or a DNS host name. `--check` refuses anything
 * else, which the listener could never bind (hostile-3: `listen.host: "not a host"` passed the
 * check and failed only at start).
 */
import { isIP } from 'node:net';

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
