// Overrides named by address are found under the key the address is metered as (hostile-19):
// `ip:::ffff:10.0.0.7` and `ip:2001:db8::1` were kept as written, while tenantOf gives
// `ip:10.0.0.7` and `ip:2001:db8:0:0:0:0:0:0/64`, so they matched no request.
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/core/errors.js';
import { HttpAdmission } from '../../src/http/index.js';
import { KeyedRateLimiter } from '../../src/rate/keyed.js';

const req = (peer: string) => ({ headers: {}, socket: { remoteAddress: peer } });
const gold = { algorithm: 'gcra', rate: 1000, burst: 100 } as const;

/** The burst of the policy `key` is metered under. */
function burstFor(limiter: KeyedRateLimiter, key: string): number | undefined {
  const p = limiter.policyFor(key);
  return 'burst' in p ? p.burst : undefined;
}

function limiterOf(a: HttpAdmission<ReturnType<typeof req>>): KeyedRateLimiter {
  const r = a.rates[0];
  if (!(r instanceof KeyedRateLimiter)) throw new Error('expected a KeyedRateLimiter');
  return r;
}

describe('ip: overrides of sluice/http', () => {
  it('written as an address in any spelling, apply to that client (as a record and as a Map)', () => {
    for (const overrides of [{ 'ip:::ffff:10.0.0.7': gold, 'ip:2001:DB8::1': gold }, new Map([['ip:::ffff:10.0.0.7', gold], ['ip:2001:DB8::1', gold]])]) {
      const a = new HttpAdmission({ tenant: 'ip', rateLimits: [{ name: 'r', algorithm: 'gcra', rate: 1, burst: 1, overrides }] });
      const limiter = limiterOf(a);
      for (const peer of ['10.0.0.7', '::ffff:10.0.0.7', '2001:db8::1', '2001:db8::99']) expect(burstFor(limiter, a.tenantOf(req(peer))), peer).toBe(100);
      expect(burstFor(limiter, a.tenantOf(req('10.0.0.8')))).toBe(1);
    }
  });

  it('follow ipv6Prefix; other keys are kept as written; two for one metered client are an InvalidOptionError', () => {
    const a = new HttpAdmission({ tenant: 'ip', ipv6Prefix: 128, rateLimits: [{ name: 'r', algorithm: 'gcra', rate: 1, burst: 1, overrides: { 'ip:2001:db8::1': gold, 'user:ann': gold } }] });
    expect(burstFor(limiterOf(a), a.tenantOf(req('2001:db8::1')))).toBe(100);
    expect(burstFor(limiterOf(a), a.tenantOf(req('2001:db8::2')))).toBe(1);
    expect(burstFor(limiterOf(a), 'user:ann')).toBe(100);
    expect(() => new HttpAdmission({ tenant: 'ip', rateLimits: [{ name: 'r', algorithm: 'gcra', rate: 1, burst: 1, overrides: { 'ip:2001:db8::1': gold, 'ip:2001:db8::2': gold } }] })).toThrow(InvalidOptionError);
  });
});
