import { describe, expect, it } from 'vitest';
import { addressKey, clientFromHeader, forwardedFor, isTrusted, parseIp, parseNode, trustCheck } from '../../src/http/index.js';
import type { ParsedIp } from '../../src/http/index.js';
import { InvalidOptionError } from '../../src/core/index.js';

const ip = (s: string): ParsedIp => {
  const p = parseIp(s);
  if (p === undefined) throw new Error(`not an IP: ${s}`);
  return p;
};

describe('parseIp / parseNode', () => {
  it('folds IPv4-mapped IPv6 to IPv4 and canonicalises IPv6', () => {
    expect(parseIp('::ffff:192.0.2.1')).toMatchObject({ family: 4, text: '192.0.2.1' });
    expect(parseIp('::ffff:c000:201')).toMatchObject({ family: 4, text: '192.0.2.1' });
    expect(parseIp('2001:DB8::1')).toMatchObject({ family: 6, text: '2001:db8:0:0:0:0:0:1' });
    expect(parseIp('::1')?.text).toBe('0:0:0:0:0:0:0:1');
    expect(parseIp('fe80::1%eth0')?.text).toBe('fe80:0:0:0:0:0:0:1');
    expect(parseIp('64:ff9b::192.0.2.33')?.text).toBe('64:ff9b:0:0:0:0:c000:221');
  });

  it('rejects what is not an address', () => {
    for (const bad of ['', 'unknown', '_hidden', '1.2.3', '256.1.1.1', '1.2.3.4.5', '01.2.3.4', ':::', 'x'.repeat(10_000), '1.2.3.4 ']) {
      expect(parseIp(bad)).toBeUndefined();
    }
  });

  it('reads nodes with ports and brackets as proxies write them', () => {
    expect(parseNode('192.0.2.43:47011')?.text).toBe('192.0.2.43');
    expect(parseNode('[2001:db8:cafe::17]:4711')?.text).toBe('2001:db8:cafe:0:0:0:0:17');
    expect(parseNode('[2001:db8::1]')?.family).toBe(6);
    expect(parseNode('2001:db8::1')?.family).toBe(6);
    for (const bad of ['[1.2.3.4]', '[2001:db8::1', '[::1]:x', '1.2.3.4:', '1.2.3.4:1234567', 'unknown']) expect(parseNode(bad)).toBeUndefined();
  });
});

describe('addressKey', () => {
  it('groups IPv6 by /64 and leaves IPv4 whole by default', () => {
    expect(addressKey(ip('2001:db8:1:2:aaaa::1'), 32, 64)).toBe('2001:db8:1:2:0:0:0:0/64');
    expect(addressKey(ip('2001:db8:1:2:ffff:ffff:ffff:ffff'), 32, 64)).toBe('2001:db8:1:2:0:0:0:0/64');
    expect(addressKey(ip('2001:db8:1:3::1'), 32, 64)).toBe('2001:db8:1:3:0:0:0:0/64');
    expect(addressKey(ip('2001:db8:1:2::1'), 32, 128)).toBe('2001:db8:1:2:0:0:0:1');
    expect(addressKey(ip('2001:db8:1:ff::1'), 32, 56)).toBe('2001:db8:1:0:0:0:0:0/56');
    expect(addressKey(ip('192.0.2.77'), 32, 64)).toBe('192.0.2.77');
    expect(addressKey(ip('192.0.2.77'), 24, 64)).toBe('192.0.2.0/24');
    expect(addressKey(ip('255.255.255.255'), 1, 64)).toBe('128.0.0.0/1');
  });
});

describe('trusted proxies', () => {
  const trusted = trustCheck(['loopback', '10.0.0.0/8', '2001:db8:ffff::/48']);

  it('matches presets, blocks and addresses', () => {
    expect(isTrusted(trusted, '127.0.0.1')).toBe(true);
    expect(isTrusted(trusted, '::ffff:127.0.0.1')).toBe(true);
    expect(isTrusted(trusted, '::1')).toBe(true);
    expect(isTrusted(trusted, '10.20.30.40')).toBe(true);
    expect(isTrusted(trusted, '2001:db8:ffff:1::9')).toBe(true);
    expect(isTrusted(trusted, '11.0.0.1')).toBe(false);
    expect(isTrusted(trusted, 'garbage')).toBe(false);
  });

  it('refuses entries that are not addresses, blocks or presets, naming the index', () => {
    expect(() => trustCheck(['10.0.0.0/8', 'localhost'])).toThrow(InvalidOptionError);
    expect(() => trustCheck(['10.0.0.0/8', 'localhost'])).toThrow(/trustProxy\[1\]/);
    expect(() => trustCheck(['10.0.0.0/33'])).toThrow(/prefix/);
  });

  it('refuses a block whose prefix is not decimal digits: 10.0.0.0/ is no /0 that trusts every address (hostile-11)', () => {
    for (const entry of ['10.0.0.0/', '::1/', '10.0.0.0/ 8', '10.0.0.0/0x8', '10.0.0.0/1e1', '10.0.0.0/+8', '10.0.0.0/8.0']) {
      expect(() => trustCheck([entry]), entry).toThrow(/trustProxy\[0\] prefix/);
    }
    expect(isTrusted(trustCheck(['0.0.0.0/0']), '203.0.113.9')).toBe(true); // written out, a /0 is meant
    expect(isTrusted(trustCheck(['10.0.0.0/08']), '10.1.2.3')).toBe(true);
  });
});

describe('walking X-Forwarded-For from the right', () => {
  const trusted = trustCheck(['10.0.0.0/8']);
  const walk = (peer: string, header: string | undefined, max = 16): string => clientFromHeader(ip(peer), header, 'x-forwarded-for', trusted, max).text;

  it('an untrusted peer is the client whatever it claims', () => {
    expect(walk('203.0.113.9', '1.1.1.1, 10.0.0.1')).toBe('203.0.113.9');
  });

  it('stops at the first untrusted hop from the right', () => {
    expect(walk('10.0.0.2', '198.51.100.1, 203.0.113.5, 10.0.0.1')).toBe('203.0.113.5');
    expect(walk('10.0.0.2', '203.0.113.5')).toBe('203.0.113.5');
    expect(walk('10.0.0.2', '[2001:db8::5]:443')).toBe('2001:db8:0:0:0:0:0:5');
  });

  it('ends at the last address reached on garbage, empty entries, unknown, or too many hops', () => {
    expect(walk('10.0.0.2', 'garbage')).toBe('10.0.0.2');
    expect(walk('10.0.0.2', '203.0.113.5, garbage, 10.0.0.1')).toBe('10.0.0.1');
    expect(walk('10.0.0.2', ',,,')).toBe('10.0.0.2');
    expect(walk('10.0.0.2', '')).toBe('10.0.0.2');
    expect(walk('10.0.0.2', 'unknown')).toBe('10.0.0.2');
    const hops = Array.from({ length: 100 }, (_, i) => `10.0.${i >> 8}.${i & 255}`).join(', ');
    expect(walk('10.0.0.2', `203.0.113.5, ${hops}`, 16)).toMatch(/^10\./);
  });

  it('is bounded on huge headers', () => {
    const huge = `${'9'.repeat(1_000_000)}, 203.0.113.5`;
    expect(walk('10.0.0.2', huge)).toBe('203.0.113.5');
    expect(walk('10.0.0.2', `203.0.113.5, ${'x'.repeat(1_000_000)}`)).toBe('10.0.0.2');
    const many = Array.from({ length: 50_000 }, () => '10.1.1.1').join(',');
    const t0 = performance.now();
    expect(walk('10.0.0.2', many)).toBe('10.1.1.1');
    // Linear in the header's length (a quadratic walk of 50,000 hops takes minutes); the bound
    // tells minutes from milliseconds, not a figure: 2 s was within reach of a host at load 30,
    // where a process gets a tenth of a core and a stall of seconds.
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});

describe('Forwarded (RFC 7239)', () => {
  it('reads the for parameter of the RFC examples', () => {
    expect(forwardedFor('for="_gazonk"')).toBeUndefined();
    expect(forwardedFor('For="[2001:db8:cafe::17]:4711"')?.text).toBe('2001:db8:cafe:0:0:0:0:17');
    expect(forwardedFor('for=192.0.2.60;proto=http;by=203.0.113.43')?.text).toBe('192.0.2.60');
    expect(forwardedFor('proto=https;for=192.0.2.43')?.text).toBe('192.0.2.43');
    expect(forwardedFor('by=203.0.113.43')).toBeUndefined();
  });

  it('walks elements from the right through trusted hops only', () => {
    const trusted = trustCheck(['198.51.100.0/24']);
    const header = 'for=192.0.2.43, for=198.51.100.17;by=203.0.113.60;proto=http;host=example.com';
    expect(clientFromHeader(ip('198.51.100.1'), header, 'forwarded', trusted, 16).text).toBe('192.0.2.43');
    expect(clientFromHeader(ip('203.0.113.1'), header, 'forwarded', trusted, 16).text).toBe('203.0.113.1');
    expect(clientFromHeader(ip('198.51.100.1'), 'for=unknown', 'forwarded', trusted, 16).text).toBe('198.51.100.1');
    expect(clientFromHeader(ip('198.51.100.1'), 'for="a,b", for=192.0.2.1', 'forwarded', trusted, 16).text).toBe('192.0.2.1');
  });
});
