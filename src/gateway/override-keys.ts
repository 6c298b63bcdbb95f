/**
 * A tenant override is found by the exact key a request is metered under, and an address is
 * metered in one canonical form (src/http/ip.ts): IPv4 dotted, an IPv4-mapped IPv6 folded to
 * IPv4, IPv6 as its /64 network written in eight groups. An override written the way an
 * operator writes an address — `ip:2001:db8::1`, `ip:::ffff:10.0.0.7`, `ip:10.0.0.07` — matched
 * no request and passed --check (hostile-19: `ip:::1` on a listener at ::1 left the client at
 * the policy's 1/min). So an address is taken in any form node:net reads and keyed as the
 * gateway meters it; anything else under `ip:` is a config error.
 */
import { HTTP_DEFAULTS } from '../http/options.js';
import { UNKNOWN_ADDRESS } from '../http/client-ip.js';
import { addressKey, meteredIpKey, parseIp } from '../http/ip.js';

/** The key as metered (`ip:` canonical, `key:` as written); undefined for an `ip:` key that no request can have. */
export function meteredOverrideKey(key: string): string | undefined {
  if (!key.startsWith('ip:')) return key;
  const written = key.slice(3);
  if (written === UNKNOWN_ADDRESS) return key;
  const direct = meteredIpKey(key, HTTP_DEFAULTS.ipv4Prefix, HTTP_DEFAULTS.ipv6Prefix);
  if (direct !== undefined) return direct;
  // The metered form itself (`ip:2001:db8:0:0:0:0:0:0/64`, as /status and the refusal log name it).
  const slash = written.lastIndexOf('/');
  const network = slash < 0 ? undefined : parseIp(written.slice(0, slash));
  if (network === undefined) return undefined;
  const keyed = `ip:${addressKey(network, HTTP_DEFAULTS.ipv4Prefix, HTTP_DEFAULTS.ipv6Prefix)}`;
  return keyed === key ? key : undefined;
}

/** What an `ip:` override must hold, for the config error. */
export const IP_OVERRIDE_EXPECTED = `an address (ip:10.0.0.7, ip:2001:db8::1 — an IPv6 address stands for its /${HTTP_DEFAULTS.ipv6Prefix}, which the gateway meters as one client)`;
