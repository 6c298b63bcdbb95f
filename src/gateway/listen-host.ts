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
