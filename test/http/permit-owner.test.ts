// The seam between sluice/http and whoever runs the work, on a virtual clock: `handle`
// releases on the response's close (in-process adapters), `decide` leaves the permit to
// the caller; early refusal is the concurrency gate's and costs no quota; one wait budget
// for the whole chain of gates.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { HttpAdmission } from '../../src/http/index.js';
import type { HttpDecision } from '../../src/http/index.js';
import { TokenBucket } from '../../src/rate/index.js';
import { FakeRes, fakeReq } from './helpers.js';

type Req = ReturnType<typeof fakeReq>;

function now(d: HttpDecision | Promise<HttpDecision>): HttpDecision {
  if (d instanceof Promise) throw new Error('expected an immediate decision');
  return d;
}

describe('HttpAdmission: one owner for each permit', () => {
  it('decide: the response closing leaves the permit to the caller, who ends it once with the status', () => {
    const clock = new VirtualClock();
    const breakerless = new HttpAdmission<Req>({ clock, concurrency: 2 });
    const gate = breakerless.concurrency!;
    const res = new FakeRes();
    const d = now(breakerless.decide(fakeReq('192.0.2.1'), res));
    if (d.type !== 'admitted') throw new Error('expected admission');
    clock.advance(40);
    res.finish(200); // the relay to the client ended: not the caller's work
    expect(gate.stats()).toMatchObject({ inFlight: 1, released: 0 });
    clock.advance(10);
    d.permit.finish(503); // the upstream's status: classify makes it a failure
    d.permit.release('dropped'); // a second end is a no-op
    expect(gate.stats()).toMatchObject({ inFlight: 0, released: 1 });
    expect(gate.serviceMs).toBe(50); // measured once, grant to that release
  });

  it('handle: the response closing ends the permit (finished: by status; cut: dropped)', () => {
    const clock = new VirtualClock();
    const policy = new HttpAdmission<Req>({ clock, concurrency: 2 });
    const gate = policy.concurrency!;
    const events: string[] = [];
    gate.on((e) => {
      if (e.type === 'release') events.push(e.outcome);
    });
    const a = new FakeRes();
    const b = new FakeRes();
    expect(now(policy.handle(fakeReq('192.0.2.1'), a)).type).toBe('admitted');
    expect(now(policy.handle(fakeReq('192.0.2.1'), b)).type).toBe('admitted');
    a.finish(500);
    b.abort();
    expect(events).toEqual(['failure', 'dropped']);
    expect(gate.stats().inFlight).toBe(0);
  });

  it('a waiting request whose client leaves is taken out of the queue, with either method', async () => {
    const clock = new VirtualClock();
    const policy = new HttpAdmission<Req>({ clock, concurrency: { limit: 1, maxQueue: 2, maxWaitMs: 1000 } });
    const holder = now(policy.decide(fakeReq('192.0.2.1'), new FakeRes()));
    const res = new FakeRes();
    const waiting = policy.decide(fakeReq('192.0.2.1'), res);
    expect(policy.concurrency!.queued).toBe(1);
    res.abort();
    expect(await waiting).toEqual({ type: 'abandoned' });
    expect(policy.concurrency!.queued).toBe(0);
    if (holder.type === 'admitted') holder.permit.finish(200);
    expect(policy.concurrency!.inFlight).toBe(0);
  });
});

describe('HttpAdmission: early refusal is the gate’s', () => {
  it('refused for the server’s sake before the rate limits: the tenant’s quota is not spent', () => {
    const clock = new VirtualClock();
    const policy = new HttpAdmission<Req>({
      clock,
      rateLimits: [{ name: 'api', algorithm: 'token-bucket', rate: 1, perMs: 60_000, burst: 3 }],
      concurrency: { limit: 1, maxQueue: 5, maxWaitMs: 100 },
    });
    const first = now(policy.decide(fakeReq('192.0.2.1'), new FakeRes()));
    if (first.type !== 'admitted') throw new Error('expected admission');
    clock.advance(200);
    first.permit.finish(200); // 200 ms of service: a 100 ms budget cannot be met
    const holder = now(policy.decide(fakeReq('192.0.2.1'), new FakeRes()));
    expect(holder.type).toBe('admitted');
    for (let i = 0; i < 5; i++) {
      const d = now(policy.decide(fakeReq('192.0.2.1'), new FakeRes()));
      expect(d).toMatchObject({ type: 'rejected', status: 503, problem: { reason: 'queue_timeout' } });
      if (d.type === 'rejected') expect(d.rejection.retryAfterMs).toBe(200);
    }
    // Two units of three spent by the two admitted requests; the five refusals spent none.
    if (holder.type === 'admitted') holder.permit.finish(200);
    const after = now(policy.decide(fakeReq('192.0.2.1'), new FakeRes()));
    expect(after.type).toBe('admitted');
    if (after.type === 'admitted') expect(after.permit.facts).toMatchObject({ policy: 'api', remaining: 0 });
    expect(policy.concurrency!.stats().rejected.queue_timeout).toBe(5);
  });

  it('one wait budget for the whole chain: a wait at a rate gate and one at the queue add up to at most maxWaitMs', async () => {
    const clock = new VirtualClock();
    const rate = new TokenBucket({ name: 'paced', rate: 10, perMs: 1000, burst: 1, maxWaitMs: 10_000, clock });
    const concurrency = new ConcurrencyGate({ name: 'slots', limit: 1, maxQueue: 5, maxWaitMs: 10_000, clock });
    const policy = new HttpAdmission<Req>({ clock, gates: [rate], concurrency, maxWaitMs: 150 });
    const timedOutAt: number[] = [];
    concurrency.on((e) => {
      if (e.type === 'reject' && e.reason === 'queue_timeout') timedOutAt.push(e.at);
    });
    const slot = concurrency.admit(); // held by other work for the whole test
    if (slot instanceof Promise || !slot.ok) throw new Error('expected a slot');
    const t0 = clock.now();
    // A takes the bucket's one unit and queues for the slot; B waits 100 ms for a unit, then queues.
    const a = policy.handle(fakeReq('192.0.2.1'), new FakeRes());
    const b = policy.handle(fakeReq('192.0.2.1'), new FakeRes());
    expect(a).toBeInstanceOf(Promise);
    expect(b).toBeInstanceOf(Promise);
    await clock.tick(1000);
    for (const d of [await a, await b]) expect(d).toMatchObject({ type: 'rejected', problem: { reason: 'queue_timeout' } });
    // Both refused when the chain's 150 ms ran out: B not at 100 + 150 ms.
    expect(timedOutAt).toEqual([t0 + 150, t0 + 150]);
    slot.release('ignored');
  });
});
