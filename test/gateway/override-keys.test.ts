// Tenant overrides written as an operator writes an address (hostile-19): `ip:::ffff:127.0.0.1`,
// `ip:2001:db8::1` matched no request (the gateway meters 127.0.0.1, and an IPv6 client by its
// /64 in eight groups) and passed the config check; now they are keyed as the gateway meters.
import { afterEach, describe, expect, it } from 'vitest';
import { checkText } from '../../src/gateway/load-config.js';
import { meteredOverrideKey } from '../../src/gateway/override-keys.js';
import { cleanup, oneRoute, startInProcess, upstream } from './helpers.js';

afterEach(cleanup);

const yaml = (keys: string[]): string => `upstreams:
  app: { url: "http://127.0.0.1:3000" }
policies:
  p:
    rateLimits:
      - rate: 1/min
        overrides:
${keys.map((k) => `          "${k}": { rate: 100/s }`).join('\n')}
routes:
  - { path: /, policy: p }
`;

/** The config errors of `yaml`, one a line ('' when valid). */
function errorsOf(text: string): string {
  try {
    checkText(text, 'sluice.yaml');
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

describe('ip: tenant overrides', () => {
  it('an IPv4-mapped address is the IPv4 client it stands for: the override applies (all 200; before, 200 then 429)', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess(
      oneRoute(up.url, '2s', {
        policies: { p: { tenant: 'ip', rateLimits: [{ rate: '1/min', burst: 1, overrides: { 'ip:::ffff:127.0.0.1': { rate: '1000/s', burst: 100 } } }] } },
        routes: [{ path: '/', policy: 'p' }],
      }),
    );
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(`${gw.url}/x`)).status);
    expect(statuses).toEqual([200, 200, 200, 200]);
  });

  it('is keyed as the gateway meters it: IPv4 as written, IPv6 as its /64 (any spelling), the metered form itself', () => {
    expect(meteredOverrideKey('ip:10.0.0.7')).toBe('ip:10.0.0.7');
    expect(meteredOverrideKey('ip:::ffff:10.0.0.7')).toBe('ip:10.0.0.7');
    for (const k of ['ip:2001:db8::1', 'ip:2001:DB8:0:0:1::', 'ip:2001:db8:0:0:0:0:0:0/64']) expect(meteredOverrideKey(k), k).toBe('ip:2001:db8:0:0:0:0:0:0/64');
    expect(meteredOverrideKey('ip:unknown')).toBe('ip:unknown');
    expect(meteredOverrideKey('key:gold')).toBe('key:gold');
    for (const k of ['ip:10.0.0.07', 'ip:10.0.0.0/8', 'ip:2001:db8::/48', 'ip:example.com', 'ip:10.0.0.7:80']) expect(meteredOverrideKey(k), k).toBeUndefined();
  });

  it('an ip: override no request is metered as, or two for one metered tenant, are config errors naming the key', () => {
    expect(errorsOf(yaml(['ip:10.0.0.07']))).toContain(
      'policies.p.rateLimits[0].overrides["ip:10.0.0.07"]: expected an address (ip:10.0.0.7, ip:2001:db8::1 — an IPv6 address stands for its /64, which the gateway meters as one client), found "ip:10.0.0.07", which no request is metered as',
    );
    expect(errorsOf(yaml(['ip:2001:db8::1', 'ip:2001:db8::2']))).toContain(
      'policies.p.rateLimits[0].overrides["ip:2001:db8::2"]: expected one override per tenant ("ip:2001:db8::1" is metered as ip:2001:db8:0:0:0:0:0:0/64 too), found "ip:2001:db8::2"',
    );
    expect(errorsOf(yaml(['ip:10.0.0.7', 'ip:2001:db8::1', 'ip:127.0.0.1']))).toBe('');
  });
});
