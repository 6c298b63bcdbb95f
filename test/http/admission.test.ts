import { describe, expect, it } from 'vitest';
import { InvalidOptionError, VirtualClock } from '../../src/core/index.js';
import { HttpAdmission } from '../../src/http/index.js';
import type { HttpDecision, Refused } from '../../src/http/index.js';
import { CircuitBreaker, consecutiveFailures } from '../../src/breaker/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { AimdLimit } from '../../src/limit/index.js';
import { LoadShedder } from '../../src/pressure/index.js';
import type { PressureSource } from '../../src/pressure/index.js';
import { FakeRes, fakeReq } from './helpers.js';

type Req = ReturnType<typeof fakeReq>;

function now(d: HttpDecision | Promise<HttpDecision>): HttpDecision {
  if (d instanceof Promise) throw new Error('expected an immediate decision');
  return d;
}
const header = (d: HttpDecision, name: string): string | undefined => (d.type === 'admitted' || d.type === 'rejected' ? d.headers.find(([n]) => n === name)?.[1] : undefined);

describe('HttpAdmission: rate limits', () => {
  it('limits per client address and answers 429 with the refused policy', () => {
    const clock = new VirtualClock();
    const policy = new HttpAdmission<Req>({ clock, rateLimits: [{ algorithm: 'token-bucket', rate: 1, burst: 2, name: 'burst' }] });
    const a = fakeReq('192.0.2.1');
    expect(now(policy.handle(a, new FakeRes())).type).toBe('admitted');
    const second = now(policy.handle(a, new FakeRes()));
    expect(header(second, 'RateLimit')).toBe('"burst";r=0;t=2');
    expect(header(second, 'RateLimit-Policy')).toBe('"burst";q=2;w=2');
    const third = now(policy.handle(a, new FakeRes())) as Refused;
    expect(third).toMatchObject({ type: 'rejected', status: 429, problem: { reason: 'rate_limited', 'violated-policies': ['burst'] } });
    expect(header(third, 'Retry-After')).toBe('1');
    expect(header(third, 'RateLimit')).toBe('"burst";r=0;t=1');
    expect(header(third, 'Content-Type')).toBe('application/problem+json');
    // Another client has its own bucket.
    expect(now(policy.handle(fakeReq('192.0.2.2'), new FakeRes())).type).toBe('admitted');
    clock.advance(1000);
    expect(now(policy.handle(a, new FakeRes())).type).toBe('admitted');
  });

  it('applies several policies at once and reports quota refusals as quota', () => {
    const clock = new VirtualClock();
    const policy = new HttpAdmission<Req>({
      clock,
      rateLimits: [
        { algorithm: 'gcra', rate: 100, burst: 100, name: 'burst' },
        { algorithm: 'sliding-window', limit: 3, windowMs: 86_400_000, name: 'daily', quota: true },
      ],
    });
    const r = fakeReq('192.0.2.1');
    for (let i = 0; i < 3; i++) expect(now(policy.handle(r, new FakeRes())).type).toBe('admitted');
    const d = now(policy.handle(r, new FakeRes())) as Refused;
    expect(d).toMatchObject({ status: 429, problem: { reason: 'quota', 'violated-policies': ['daily'] } });
    expect(header(d, 'RateLimit-Policy')).toBe('"burst";q=100;w=1, "daily";q=3;w=86400');
    expect(Number(header(d, 'Retry-After'))).toBeGreaterThan(3600);
  });

  it('keys tenants by header, function and address, namespaced', () => {
    const policy = new HttpAdmission<Req & { user?: string }>({ tenant: (req) => req.user, rateLimits: [{ algorithm: 'gcra', rate: 1 }] });
    expect(policy.tenantOf({ ...fakeReq('192.0.2.1'), user: 'alice' })).toBe('user:alice');
    expect(policy.tenantOf(fakeReq('192.0.2.1'))).toBe('ip:192.0.2.1');
    const byKey = new HttpAdmission<Req>({ tenant: { header: 'X-Api-Key' } });
    expect(byKey.tenantOf(fakeReq('192.0.2.1', { 'x-api-key': 'k1' }))).toBe('key:k1');
    expect(byKey.tenantOf(fakeReq('192.0.2.1', { 'x-api-key': '' }))).toBe('ip:192.0.2.1');
    expect(byKey.tenantOf(fakeReq('192.0.2.1', { 'x-api-key': 'k'.repeat(10_000) }))).toMatch(/^key:sha256:[\w-]{43}$/);
    expect(byKey.tenantOf(fakeReq(undefined))).toBe('ip:unknown');
    expect(byKey.tenantOf(fakeReq('2001:db8:1:2::7'))).toBe('ip:2001:db8:1:2:0:0:0:0/64');
  });

  it('a header key padded with bytes beyond ASCII is metered as the key without them: a spent key with a no-break space (0xA0, which an upstream that trims reads as the key) was a fresh bucket per padding', () => {
    const clock = new VirtualClock();
    const policy = new HttpAdmission<Req>({ clock, tenant: { header: 'x-api-key' }, rateLimits: [{ algorithm: 'token-bucket', rate: 1, burst: 1 }] });
    expect(policy.tenantOf(fakeReq('192.0.2.1', { 'x-api-key': 'k2\u00a0' }))).toBe('key:k2');
    expect(policy.tenantOf(fakeReq('192.0.2.1', { 'x-api-key': '\u00a0k\u00ff2\u0085' }))).toBe('key:k2');
    expect(policy.tenantOf(fakeReq('192.0.2.1', { 'x-api-key': '\u00a0\u00a0' }))).toBe('ip:192.0.2.1');
    expect(policy.tenantOf(fakeReq('192.0.2.1', { 'x-api-key': 'Bearer a b' }))).toBe('key:Bearer a b');
    expect(now(policy.handle(fakeReq('192.0.2.1', { 'x-api-key': 'k2' }), new FakeRes())).type).toBe('admitted');
    for (const padded of ['k2\u00a0', '\u00a0k2', 'k2\u00a0\u00a0']) expect(now(policy.handle(fakeReq('192.0.2.9', { 'x-api-key': padded }), new FakeRes())).type, padded).toBe('rejected');
  });

  it('charges the request cost; a bad cost from a function counts as 1', () => {
    const costs = [5, 0, -1, NaN, Infinity, '3' as unknown as number];
    let i = 0;
    const policy = new HttpAdmission<Req>({ cost: () => costs[i++]!, rateLimits: [{ algorithm: 'token-bucket', rate: 1, burst: 20 }] });
    const r = fakeReq('192.0.2.1');
    const first = now(policy.handle(r, new FakeRes()));
    expect(header(first, 'RateLimit')).toBe('"default";r=15;t=5');
    for (let k = 1; k < costs.length; k++) expect(now(policy.handle(r, new FakeRes())).type).toBe('admitted');
    expect(header(now(policy.handle(r, new FakeRes(), { cost: 2 })), 'RateLimit')).toMatch(/^"default";r=8;/);
  });

  it('a cost above the burst is 429 that says it will never be admitted, with no 68-year window', () => {
    const clock = new VirtualClock();
    const policy = new HttpAdmission<Req>({ clock, cost: () => 6, rateLimits: [{ algorithm: 'token-bucket', rate: 1, burst: 5, name: 'b' }] });
    const d = now(policy.handle(fakeReq('192.0.2.1'), new FakeRes())) as Refused;
    expect(d).toMatchObject({ type: 'rejected', status: 429, problem: { reason: 'rate_limited', 'violated-policies': ['b'] } });
    expect(d.problem.detail).toBe('This request costs more than policy "b" allows at once (6 units; at most 5); it will not be admitted however long the client waits.');
    expect(d.problem['retry-after']).toBeUndefined();
    expect(header(d, 'Retry-After')).toBeUndefined();
    // The policy's own window, not the 2^31 - 1 s cap: nothing was spent, the bucket is full.
    expect(header(d, 'RateLimit')).toBe('"b";r=5;t=0');
    // A request that fits is still admitted: nothing was taken by the refused one.
    expect(now(policy.handle(fakeReq('192.0.2.1'), new FakeRes(), { cost: 5 })).type).toBe('admitted');
  });

  it('skips exempt paths and routes', () => {
    const policy = new HttpAdmission<Req>({ exempt: ['/health'], rateLimits: [{ algorithm: 'gcra', rate: 1, burst: 1 }] });
    const r = fakeReq('192.0.2.1');
    for (let k = 0; k < 5; k++) expect(now(policy.handle(r, new FakeRes(), undefined, '/health')).type).toBe('exempt');
    expect(now(policy.handle(r, new FakeRes(), { exempt: true }, '/x')).type).toBe('exempt');
    expect(now(policy.handle(r, new FakeRes(), undefined, '/x')).type).toBe('admitted');
    expect(now(policy.handle(r, new FakeRes(), undefined, '/x')).type).toBe('rejected');
  });
});

describe('HttpAdmission: concurrency and release', () => {
  it('releases on finish with the status outcome and on abandonment as dropped', () => {
    const clock = new VirtualClock();
    const algorithm = new AimdLimit({ initialLimit: 4, minLimit: 1, maxLimit: 10 });
    const policy = new HttpAdmission<Req>({ clock, concurrency: { algorithm } });
    const gate = policy.concurrency!;
    const res = [new FakeRes(), new FakeRes(), new FakeRes()];
    for (const r of res) expect(now(policy.handle(fakeReq('192.0.2.1'), r)).type).toBe('admitted');
    expect(gate.inFlight).toBe(3);
    res[0]!.finish(200);
    expect(gate.limit).toBe(4);
    res[1]!.abort();
    // AIMD backs off on the drop: the abandoned request counted as dropped, not success.
    expect(gate.limit).toBe(3);
    res[1]!.emit('close'); // a second close changes nothing
    expect(gate.inFlight).toBe(1);
    res[2]!.finish(503);
    expect(gate.inFlight).toBe(0);
  });

  it('answers 503 with an estimate when the queue cannot serve in time, at once', () => {
    const clock = new VirtualClock();
    const policy = new HttpAdmission<Req>({ clock, concurrency: { limit: 1, maxQueue: 10, maxWaitMs: 50 } });
    const r = fakeReq('192.0.2.1');
    const first = new FakeRes();
    now(policy.handle(r, first));
    clock.advance(200);
    first.finish(); // service time 200 ms
    now(policy.handle(r, new FakeRes()));
    const d = now(policy.handle(r, new FakeRes())) as Refused;
    expect(d).toMatchObject({ status: 503, problem: { reason: 'queue_timeout' } });
    expect(d.rejection.retryAfterMs).toBe(200);
    expect(header(d, 'Retry-After')).toBe('1');
    expect(policy.concurrency!.queued).toBe(0);
  });

  it('removes a waiting request whose client leaves', async () => {
    const clock = new VirtualClock();
    const policy = new HttpAdmission<Req>({ clock, concurrency: { limit: 1, maxQueue: 5, maxWaitMs: 10_000 } });
    const holder = new FakeRes();
    now(policy.handle(fakeReq('192.0.2.1'), holder));
    const waiter = new FakeRes();
    const pending = policy.handle(fakeReq('192.0.2.1'), waiter);
    expect(pending).toBeInstanceOf(Promise);
    expect(policy.concurrency!.queued).toBe(1);
    waiter.abort();
    expect(policy.concurrency!.queued).toBe(0);
    await expect(pending).resolves.toEqual({ type: 'abandoned' });
    holder.finish();
    expect(policy.concurrency!.inFlight).toBe(0);
  });

  it('refuses a rate-limited tenant before it takes a concurrency slot', () => {
    const policy = new HttpAdmission<Req>({ concurrency: 1, rateLimits: [{ algorithm: 'gcra', rate: 1, burst: 1 }] });
    const r = fakeReq('192.0.2.1');
    now(policy.handle(r, new FakeRes()));
    expect(now(policy.handle(r, new FakeRes()))).toMatchObject({ status: 429 });
    expect(now(policy.handle(fakeReq('192.0.2.9'), new FakeRes()))).toMatchObject({ status: 503, problem: { reason: 'concurrency' } });
  });

  it('maps a breaker refusal to 503 circuit_open', () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker({ clock, rule: consecutiveFailures({ threshold: 1 }), openMs: 5000 });
    const policy = new HttpAdmission<Req>({ clock, gates: [breaker] });
    const res = new FakeRes();
    now(policy.handle(fakeReq('192.0.2.1'), res));
    res.finish(500);
    const d = now(policy.handle(fakeReq('192.0.2.1'), new FakeRes()));
    expect(d).toMatchObject({ status: 503, problem: { reason: 'circuit_open' } });
    expect(header(d, 'Retry-After')).toBe('5');
  });
});

describe('HttpAdmission: criticality and shedding', () => {
  const source: PressureSource & { level: 'ok' | 'slow' | 'reject' } = { level: 'slow', pressure: 1, retryAfterMs: () => 2000 };
  const make = (allowRaise: boolean): HttpAdmission<Req> => new HttpAdmission<Req>({ shed: { pressure: source }, criticality: { header: 'x-criticality', allowRaise } });

  it('sheds sheddable requests under pressure with 503 overloaded', () => {
    const policy = make(false);
    const d = now(policy.handle(fakeReq('192.0.2.1', { 'x-criticality': 'sheddable' }), new FakeRes()));
    expect(d).toMatchObject({ status: 503, problem: { reason: 'overloaded' } });
    expect(header(d, 'Retry-After')).toBe('2');
    expect(now(policy.handle(fakeReq('192.0.2.1'), new FakeRes())).type).toBe('admitted');
    expect(now(policy.handle(fakeReq('192.0.2.1', { 'x-criticality': 'nonsense' }), new FakeRes())).type).toBe('admitted');
    expect(now(policy.handle(fakeReq('192.0.2.1', { 'x-criticality': 'x'.repeat(100_000) }), new FakeRes())).type).toBe('admitted');
  });

  it('a client cannot raise its class above the route, unless allowed', () => {
    source.level = 'reject';
    try {
      const strict = make(false);
      const asks = fakeReq('192.0.2.1', { 'x-criticality': 'critical-plus' });
      expect(now(strict.handle(asks, new FakeRes()))).toMatchObject({ problem: { reason: 'overloaded' } });
      expect(now(strict.handle(asks, new FakeRes(), { criticality: 'critical-plus' })).type).toBe('admitted');
      expect(now(make(true).handle(asks, new FakeRes())).type).toBe('admitted');
    } finally {
      source.level = 'slow';
    }
  });

  it('takes a ready LoadShedder and ConcurrencyGate', () => {
    const clock = new VirtualClock();
    const shed = new LoadShedder({ clock, pressure: source });
    const concurrency = new ConcurrencyGate({ clock, limit: 2 });
    const policy = new HttpAdmission<Req>({ shed, concurrency });
    expect(policy.clock).toBe(clock);
    expect(policy.shedder).toBe(shed);
    expect(now(policy.handle(fakeReq('192.0.2.1'), new FakeRes())).type).toBe('admitted');
    expect(concurrency.inFlight).toBe(1);
  });
});

describe('HttpAdmission: options', () => {
  const bad: [string, object][] = [
    ['maxProxyHops', { trustProxy: ['loopback'], maxProxyHops: 0 }],
    ['ipv6Prefix', { ipv6Prefix: 129 }],
    ['proxyHeader', { proxyHeader: 'forwarded' }],
    ['headers', { headers: 'rfc' }],
    ['cost', { cost: 0 }],
    ['rateLimits[0].name', { rateLimits: [{ algorithm: 'gcra', rate: 1 }, { algorithm: 'gcra', rate: 2 }] }],
    ['rateLimits[1].name', { rateLimits: [{ algorithm: 'gcra', rate: 1, name: 'a' }, { algorithm: 'gcra', rate: 2, name: 'a' }] }],
    ['rateLimits[0].name', { rateLimits: [{ algorithm: 'gcra', rate: 1, name: 'dé' }] }],
    ['concurrency.maxWaitMs', { concurrency: { limit: 1, maxWaitMs: 10 } }],
    ['concurrency.limit', { concurrency: { maxQueue: 1 } }],
    ['concurrency', { concurrency: 0 }],
    ['criticality.default', { criticality: { default: 'urgent' } }],
    ['exempt', { exempt: ['health'] }],
    ['tenant', { tenant: { header: '' } }],
    ['trustProxy[0]', { trustProxy: ['nope'] }],
  ];
  for (const [name, options] of bad) {
    it(`names ${name} in the error`, () => {
      let err: unknown;
      try {
        new HttpAdmission(options as never);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect((err as InvalidOptionError).option.startsWith(name)).toBe(true);
    });
  }
});
