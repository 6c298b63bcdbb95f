/**
 * Which peers may speak for a client: a list of addresses, CIDR blocks and named ranges,
 * checked with node:net's BlockList, or a predicate. Validated once; an entry that is not
 * an address, a block or a preset name is an error naming its index.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { InvalidOptionError } from '../core/errors.js';
import { optInt } from '../core/options.js';
import type { ParsedIp } from './ip.js';
import { parseIp } from './ip.js';

/** Named ranges: `loopback`, `linklocal`, `uniquelocal` (private: RFC 1918 and fc00::/7). */
export type ProxyPreset = 'loopback' | 'linklocal' | 'uniquelocal';

const PRESETS: Readonly<Record<ProxyPreset, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/**
 * Trusted proxies: entries such as `'10.0.0.0/8'`, `'2001:db8::/32'`, `'192.0.2.7'` or a
 * {@link ProxyPreset} name; or a predicate over the canonical address text.
 */
export type TrustProxyOption = readonly string[] | ((address: string) => boolean);

/** A validated trust check. */
export type TrustCheck = (ip: ParsedIp) => boolean;

export function trustCheck(option: TrustProxyOption, name = 'trustProxy'): TrustCheck {
  if (typeof option === 'function') return (ip) => option(ip.text) === true;
  if (!Array.isArray(option)) throw new InvalidOptionError(name, 'an array of addresses, CIDR blocks or presets, or a function', option);
  const list = new BlockList();
  const add = (entry: string, at: string): void => {
    const slash = entry.indexOf('/');
    const addr = slash < 0 ? entry : entry.slice(0, slash);
    const family = isIPv4(addr) ? 'ipv4' : isIPv6(addr) ? 'ipv6' : undefined;
    if (family === undefined) throw new InvalidOptionError(at, 'an IP address, a CIDR block or one of loopback, linklocal, uniquelocal', entry);
    if (slash < 0) {
      list.addAddress(addr, family);
    } else {
      // Decimal digits only: Number('') is 0, so `10.0.0.0/` (a prefix left out) was a /0 that
      // trusted every address on the internet (hostile-11); `/0x8` and `/1e1` are typos too.
      const digits = entry.slice(slash + 1);
      if (!/^[0-9]{1,3}$/.test(digits)) throw new InvalidOptionError(`${at} prefix`, 'a prefix length of decimal digits after the slash (10.0.0.0/8)', entry);
      const prefix = optInt(`${at} prefix`, Number(digits), 0, family === 'ipv4' ? 32 : 128);
      list.addSubnet(addr, prefix, family);
    }
  };
  (option as readonly unknown[]).forEach((entry, i) => {
    const at = `${name}[${i}]`;
    if (typeof entry !== 'string') throw new InvalidOptionError(at, 'a string', entry);
    const preset = PRESETS[entry as ProxyPreset] as readonly string[] | undefined;
    if (preset !== undefined) for (const e of preset) add(e, at);
    else add(entry, at);
  });
  return (ip) => list.check(ip.text, ip.family === 4 ? 'ipv4' : 'ipv6');
}

/** Parse an address for a trust check (tests, custom resolvers). */
export function isTrusted(check: TrustCheck, address: string): boolean {
  const ip = parseIp(address);
  return ip !== undefined && check(ip);
}
