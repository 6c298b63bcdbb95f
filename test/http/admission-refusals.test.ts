// Refusals at once, on a virtual clock: early refusal from the learned wait per queue
// position and its 20% headroom, and the rendered capacity refusals shared between requests
// (never a rate-limit refusal, whose RateLimit facts are the request's own).
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import type { Permit } from '../../src/core/index.js';
import { HttpAdmission } from '../../src/http/index.js';
import type { HttpDecision, Refused } from '../../src/http/index.js';
import type { PressureSource } from '../../src/pressure/index.js';
import { FakeRes, fakeReq } from './helpers.js';

type Req = ReturnType<typeof fakeReq>;

function now(d: HttpDecision | Promise<HttpDecision>): HttpDecision {
  if (d instanceof Promise) throw new Error('expected an immediate decision');
  return d;
}
const header = (d: HttpDecision, name: string): string | undefined => (d.type === 'admitted' || d.type === 'rejected' ? d.headers.find(([n]) => n === name)?.[1] : undefined);

/** A slot taken on the gate directly, released 'ignored' by the test: no service-time sample. */
function hold(policy: HttpAdmission<Req>): Permit {
  const a = policy.concurrency!.admit();
  if (a instanceof Promise || !a.ok) throw new Error('expected a free slot');
  return a;
}

/** One admitted request of `policy` that takes `ms` of service (sets its smoothed service time). */
function serve(policy: HttpAdmission<Req>, clock: VirtualClock, ms: number): void {
  const res = new FakeRes();
  expect(now(policy.handle(fakeReq('192.0.2.1'), res)).type).toBe('admitted');
  clock.advance(ms);
  res.finish(200);
}

describe('HttpAdmission: early refusal', () => {
  it('learns the observed wait per queue position and refuses at once when it predicts a timeout', async () => {
    const clock = new VirtualClock();
    const make = (): HttpAdmission<Req> => new HttpAdmission<Req>({ clock, concurrency: { limit: 2, maxQueue: 10, maxWaitMs: 2000 } });
    const policy = make();
    const gate = policy.concurrency!;
    clock.advance(60_000); // a policy that has run a while
    serve(policy, clock, 10);
    expect(policy.serviceMs).toBe(10);

    // Both slots taken by work outside this policy. Two requests queue at positions 1 and 2
    // and get a slot after 500 and 1000 ms: 500 ms per position, both times.
    const outside = [hold(policy), hold(policy)];
    const learnRes = [new FakeRes(), new FakeRes()];
    const learning = learnRes.map((res) => policy.handle(fakeReq('192.0.2.1'), res));
    for (const l of learning) expect(l).toBeInstanceOf(Promise);
    clock.advance(500);
    outside[0]!.release('ignored');
    expect((await learning[0]!).type).toBe('admitted');
    clock.advance(500);
    outside[1]!.release('ignored');
    expect((await learning[1]!).type).toBe('admitted');
    clock.advance(10);
    for (const res of learnRes) res.finish(200);
    // The service time says 55 / 2 = 27.5 ms per position; the waits said 500.
    expect(policy.serviceMs).toBeCloseTo(55, 6);
    expect(gate.inFlight).toBe(0);
    outside.splice(0, 2, hold(policy), hold(policy)); // full again

    // Positions 1 to 3: 500, 1000, 1500 ms expected, within 80% of 2000: queued.
    const queuedRes = [new FakeRes(), new FakeRes(), new FakeRes()];
    const queued = queuedRes.map((res) => policy.handle(fakeReq('192.0.2.1'), res));
    for (const q of queued) expect(q).toBeInstanceOf(Promise);
    // Position 4: 2000 ms expected from the observed waits (110 ms from the service time): refused at once.
    const d = now(policy.handle(fakeReq('192.0.2.1'), new FakeRes())) as Refused;
    expect(d).toMatchObject({ type: 'rejected', status: 503, problem: { reason: 'queue_timeout' } });
    expect(d.rejection.retryAfterMs).toBe(2000);
    expect(header(d, 'Retry-After')).toBe('2');
    expect(gate.queued).toBe(3);

    // The same situation without observed waits: the service time alone lets position 4 queue.
    const fresh = make();
    serve(fresh, clock, 55);
    const freshHeld = [hold(fresh), hold(fresh)];
    const freshWaiting = [new FakeRes(), new FakeRes(), new FakeRes(), new FakeRes()];
    for (const res of freshWaiting) expect(fresh.handle(fakeReq('192.0.2.1'), res)).toBeInstanceOf(Promise);
    expect(fresh.concurrency!.queued).toBe(4);

    for (const res of [...queuedRes, ...freshWaiting]) res.abort();
    for (const q of queued) await expect(q).resolves.toEqual({ type: 'abandoned' });
    for (const p of [...outside, ...freshHeld]) p.release('ignored');
    expect(gate.inFlight).toBe(0);
    expect(fresh.concurrency!.inFlight).toBe(0);
  });

  it('refuses at once a request expected to wait over 80% of its budget; queues one under it', async () => {
    const clock = new VirtualClock();
    const policy = new HttpAdmission<Req>({ clock, concurrency: { limit: 1, maxQueue: 5, maxWaitMs: 10_000 } });
    const gate = policy.concurrency!;
    serve(policy, clock, 100);
    const holder = new FakeRes();
    expect(now(policy.handle(fakeReq('192.0.2.1'), holder)).type).toBe('admitted');

    // Expected wait at position 1: 100 ms. Budget 120 ms: 80% is 96 ms, under it: refused.
    const over = now(policy.handle(fakeReq('192.0.2.1'), new FakeRes(), { maxWaitMs: 120 })) as Refused;
    expect(over).toMatchObject({ type: 'rejected', status: 503, problem: { reason: 'queue_timeout' } });
    expect(over.rejection.retryAfterMs).toBe(100);
    expect(header(over, 'Retry-After')).toBe('1');
    expect(gate.queued).toBe(0);

    // The same from the client's own deadline (budgetMs) rather than the route.
    const budgeted = new HttpAdmission<Req>({ clock, budgetMs: (req) => Number(req.headers['x-budget']), concurrency: { limit: 1, maxQueue: 5, maxWaitMs: 10_000 } });
    serve(budgeted, clock, 100);
    const budgetedHolder = new FakeRes();
    now(budgeted.handle(fakeReq('192.0.2.1'), budgetedHolder));
    expect(now(budgeted.handle(fakeReq('192.0.2.1', { 'x-budget': '120' }), new FakeRes()))).toMatchObject({ status: 503, problem: { reason: 'queue_timeout' } });

    // Budget 130 ms: 80% is 104 ms, over the 100 ms expected: queued, and served when the slot frees.
    const waitingRes = new FakeRes();
    const waiting = policy.handle(fakeReq('192.0.2.1'), waitingRes, { maxWaitMs: 130 });
    expect(waiting).toBeInstanceOf(Promise);
    expect(gate.queued).toBe(1);
    clock.advance(90);
    holder.finish(200);
    expect((await waiting).type).toBe('admitted');
    waitingRes.finish(200);
    budgetedHolder.finish(200);
    expect(gate.inFlight).toBe(0);
  });

  it('a slow spell that has passed stops refusing: requests that find the gate full are queued again', async () => {
    const clock = new VirtualClock();
    const policy = new HttpAdmission<Req>({ clock, concurrency: { limit: 1, maxQueue: 10, maxWaitMs: 100 } });
    const gate = policy.concurrency!;
    // The slow spell: one request waits 85 ms at position 1 (85 ms per position learned).
    const slowRes = new FakeRes();
    now(policy.handle(fakeReq('192.0.2.1'), slowRes));
    const waitedRes = new FakeRes();
    const waited = policy.handle(fakeReq('192.0.2.1'), waitedRes);
    clock.advance(85);
    slowRes.finish(200);
    expect((await waited).type).toBe('admitted');
    clock.advance(5);
    waitedRes.finish(200);
    // The upstream is fast again: 5 ms per request, and the service-time estimate follows.
    for (let i = 0; i < 60; i++) serve(policy, clock, 5);
    expect(policy.serviceMs).toBeLessThan(6);

    // Steady traffic for 1 s: a request arrives every 5 ms while the one before is served.
    let holder = new FakeRes();
    now(policy.handle(fakeReq('192.0.2.1'), holder));
    const refusedAt: number[] = [];
    for (let t = 0; t < 1000; t += 5) {
      const res = new FakeRes();
      const d = policy.handle(fakeReq('192.0.2.1'), res);
      clock.advance(5);
      holder.finish(200);
      if (d instanceof Promise) {
        expect((await d).type).toBe('admitted');
        holder = res;
      } else {
        expect(d).toMatchObject({ type: 'rejected', problem: { reason: 'queue_timeout' } });
        refusedAt.push(t);
        holder = new FakeRes();
        now(policy.handle(fakeReq('192.0.2.1'), holder));
      }
    }
    holder.finish(200);
    // A 5 ms wait is well within 80% of 100 ms. The learned 85 ms may refuse for a while (it is
    // re-learned only from requests that wait), but not for good: within a few budgets (here
    // 0.5 s) requests that find the gate full are queued again.
    expect(refusedAt.every((t) => t < 500)).toBe(true);
    expect(gate.inFlight).toBe(0);
    expect(gate.queued).toBe(0);
  });

  it('does not refuse early while a slot is free, nor before any service time was seen', () => {
    const clock = new VirtualClock();
    const policy = new HttpAdmission<Req>({ clock, concurrency: { limit: 1, maxQueue: 5, maxWaitMs: 10 } });
    // No service time yet: the gate decides (the request queues).
    const holder = new FakeRes();
    now(policy.handle(fakeReq('192.0.2.1'), holder));
    const waitingRes = new FakeRes();
    expect(policy.handle(fakeReq('192.0.2.1'), waitingRes)).toBeInstanceOf(Promise);
    waitingRes.abort();
    clock.advance(1000);
    holder.finish(200); // service time 1000 ms, far over the 10 ms budget
    // A free slot: admitted whatever the estimate says.
    const again = new FakeRes();
    expect(now(policy.handle(fakeReq('192.0.2.1'), again)).type).toBe('admitted');
    again.finish(200);
  });
});

describe('HttpAdmission: rendered refusals', () => {
  const source: PressureSource & { retryMs: number } = { level: 'reject', pressure: 1, retryMs: 2000, retryAfterMs: () => source.retryMs };
  const shedding = (): HttpAdmission<Req> => new HttpAdmission<Req>({ shed: { pressure: source } });

  it('two capacity refusals with the same reason and Retry-After seconds are the same answer', () => {
    const policy = shedding();
    source.retryMs = 2000;
    const a = now(policy.handle(fakeReq('192.0.2.1'), new FakeRes())) as Refused;
    source.retryMs = 1500; // rounds up to the same 2 s
    const b = now(policy.handle(fakeReq('192.0.2.2'), new FakeRes())) as Refused;
    expect(a).toMatchObject({ type: 'rejected', status: 503, problem: { reason: 'overloaded', 'retry-after': 2 } });
    expect(b.status).toBe(a.status);
    expect(b.headers).toEqual(a.headers);
    expect(b.body).toBe(a.body);
    expect(b.problem).toEqual(a.problem);
    expect(header(b, 'Retry-After')).toBe('2');
    expect(header(b, 'Content-Type')).toBe('application/problem+json');
    expect(JSON.parse(b.body)).toEqual(b.problem);
    // The rejection itself is each request's own.
    expect(a.rejection.retryAfterMs).toBe(2000);
    expect(b.rejection.retryAfterMs).toBe(1500);
  });

  it('a different Retry-After gives a different header and body, and the first answer again when it comes back', () => {
    const policy = shedding();
    source.retryMs = 2000;
    const two = now(policy.handle(fakeReq('192.0.2.1'), new FakeRes())) as Refused;
    source.retryMs = 5000;
    const five = now(policy.handle(fakeReq('192.0.2.1'), new FakeRes())) as Refused;
    expect(header(two, 'Retry-After')).toBe('2');
    expect(header(five, 'Retry-After')).toBe('5');
    expect(five.body).not.toBe(two.body);
    expect(JSON.parse(five.body)).toMatchObject({ status: 503, reason: 'overloaded', 'retry-after': 5, detail: expect.stringContaining('Retry after 5 s.') });
    expect(five.problem['retry-after']).toBe(5);
    source.retryMs = 2000;
    const twoAgain = now(policy.handle(fakeReq('192.0.2.1'), new FakeRes())) as Refused;
    expect(twoAgain.headers).toEqual(two.headers);
    expect(twoAgain.body).toBe(two.body);
  });

  it('rate-limit refusals carry their own RateLimit facts, not a shared rendering', () => {
    const clock = new VirtualClock();
    const policy = new HttpAdmission<Req>({ clock, rateLimits: [{ algorithm: 'token-bucket', rate: 10, burst: 10, name: 'api' }] });
    // Two tenants left with 1 and 2 units; each asks for 5: both refused 429, Retry-After 1 s.
    const a = fakeReq('192.0.2.1');
    const b = fakeReq('192.0.2.2');
    expect(now(policy.handle(a, new FakeRes(), { cost: 9 })).type).toBe('admitted');
    expect(now(policy.handle(b, new FakeRes(), { cost: 8 })).type).toBe('admitted');
    const ra = now(policy.handle(a, new FakeRes(), { cost: 5 })) as Refused;
    const rb = now(policy.handle(b, new FakeRes(), { cost: 5 })) as Refused;
    for (const r of [ra, rb]) {
      expect(r).toMatchObject({ type: 'rejected', status: 429, problem: { reason: 'rate_limited', 'violated-policies': ['api'] } });
      expect(header(r, 'Retry-After')).toBe('1');
      expect(header(r, 'RateLimit-Policy')).toBe('"api";q=10;w=1');
    }
    expect(header(ra, 'RateLimit')).toMatch(/^"api";r=1;t=\d+$/);
    expect(header(rb, 'RateLimit')).toMatch(/^"api";r=2;t=\d+$/);
    // Later, the same tenant's refusal shows its state then (reset nearer, more units left).
    clock.advance(200);
    const later = now(policy.handle(a, new FakeRes(), { cost: 5 })) as Refused;
    expect(later.status).toBe(429);
    expect(header(later, 'RateLimit')).toMatch(/^"api";r=3;t=\d+$/);
    expect(header(later, 'RateLimit')).not.toBe(header(ra, 'RateLimit'));
  });

  it("a refusal by a later gate shows the earlier limits' units given back (ratelimithdr: it showed them spent)", () => {
    const clock = new VirtualClock();
    const rateLimits = [
      { algorithm: 'token-bucket' as const, rate: 10, burst: 5, name: 'a' },
      { algorithm: 'token-bucket' as const, rate: 1, burst: 1, name: 'b' },
    ];
    const policy = new HttpAdmission<Req>({ clock, rateLimits });
    const req = fakeReq('192.0.2.1');
    expect(header(now(policy.handle(req, new FakeRes())), 'RateLimit')).toMatch(/^"a";r=4;t=\d+, "b";r=0;t=\d+$/);
    // "a" meters it (4 left, then 3), "b" refuses: a's unit goes back, and its item says 4, not 3.
    for (let i = 0; i < 2; i++) {
      const r = now(policy.handle(req, new FakeRes())) as Refused;
      expect(r.status).toBe(429);
      expect(header(r, 'RateLimit')).toMatch(/^"a";r=4;t=\d+, "b";r=0;t=1$/);
    }
  });
});
