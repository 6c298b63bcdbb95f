// HttpAdmission.decideBeforeWork, at the library level: what a caller that decides a request
// before its work can start (an upload whose body is still to come) relies on. The refusals it
// gives at once, that it takes no slot and no place in the concurrency queue, that an admitted
// decision names the gates still to ask in `later`, and its unhappy paths. Virtual clock.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import type { AdmissionContext, Gate, Permit } from '../../src/core/index.js';
import { CircuitBreaker, consecutiveFailures } from '../../src/breaker/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import type { ReclaimAsk, SlotReclaimer } from '../../src/concurrency/index.js';
import { HttpAdmission, HttpPermit } from '../../src/http/index.js';
import type { Admitted, HttpDecision } from '../../src/http/index.js';
import type { PressureSource } from '../../src/pressure/index.js';
import { FakeRes, fakeReq } from './helpers.js';

type Req = ReturnType<typeof fakeReq>;

function now(d: HttpDecision | Promise<HttpDecision>): HttpDecision {
  if (d instanceof Promise) throw new Error('expected an immediate decision');
  return d;
}
function admitted(d: HttpDecision | Promise<HttpDecision>): Admitted {
  const a = now(d);
  if (a.type !== 'admitted') throw new Error(`expected admitted, got ${JSON.stringify(a)}`);
  return a;
}
/** A slot taken on the gate directly (work outside the policy). */
function hold(gate: Gate, ctx?: AdmissionContext): Permit {
  const a = gate.admit(ctx);
  if (a instanceof Promise || !a.ok) throw new Error('expected a free slot');
  return a;
}
const req = (ip = '192.0.2.1', headers: Record<string, string> = {}): Req => fakeReq(ip, headers);

describe('HttpAdmission.decideBeforeWork: refusals before the work', () => {
  it('refuses a rate limit with no token left (429, its RateLimit facts), costing the concurrency gate nothing', () => {
    const clock = new VirtualClock();
    const policy = new HttpAdmission<Req>({ clock, rateLimits: [{ algorithm: 'token-bucket', rate: 1, burst: 1, name: 'burst' }], concurrency: { limit: 2, maxQueue: 2 } });
    const first = admitted(policy.decideBeforeWork(req(), new FakeRes()));
    expect(first.later?.gates).toEqual([policy.concurrency]);
    const second = now(policy.decideBeforeWork(req(), new FakeRes()));
    expect(second).toMatchObject({ type: 'rejected', status: 429, problem: { reason: 'rate_limited' } });
    expect(policy.concurrency!.stats()).toMatchObject({ inFlight: 0, queued: 0 });
    first.permit.release('ignored');
  });

  it('refuses while the breaker is open (503 circuit_open, Retry-After)', () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker({ clock, rule: consecutiveFailures({ threshold: 1 }), openMs: 5000 });
    const policy = new HttpAdmission<Req>({ clock, gates: [breaker], concurrency: { limit: 1, maxQueue: 1 } });
    const res = new FakeRes();
    now(policy.handle(req(), res));
    res.finish(500);
    const d = now(policy.decideBeforeWork(req(), new FakeRes()));
    expect(d).toMatchObject({ type: 'rejected', status: 503, problem: { reason: 'circuit_open' } });
    expect(d.type === 'rejected' && d.headers.find(([n]) => n === 'Retry-After')?.[1]).toBe('5');
  });

  it('keeps a breaker permit in `permit` (the caller ends it), the concurrency gate in `later`', () => {
    const clock = new VirtualClock();
    const breaker = new CircuitBreaker({ clock, rule: consecutiveFailures({ threshold: 1 }), openMs: 5000 });
    const policy = new HttpAdmission<Req>({ clock, gates: [breaker], concurrency: { limit: 1 } });
    const a = admitted(policy.decideBeforeWork(req(), new FakeRes()));
    expect(a.permit.permits.map((p) => p.gate)).toEqual([breaker.name]);
    expect(a.later?.gates).toEqual([policy.concurrency]);
    a.permit.finish(500); // the work failed: the breaker opens
    expect(breaker.state).toBe('open');
  });

  it('sheds under pressure (503 overloaded) before any other gate', () => {
    const source: PressureSource = { level: 'reject', pressure: 1, retryAfterMs: () => 2000 };
    const policy = new HttpAdmission<Req>({ shed: { pressure: source }, concurrency: { limit: 1, maxQueue: 1 } });
    const d = now(policy.decideBeforeWork(req(), new FakeRes()));
    expect(d).toMatchObject({ type: 'rejected', status: 503 });
    expect(d.type === 'rejected' && d.rejection.reason).toBe('overloaded');
  });

  it('refuses when the queue is full (queue_full) and when every slot is taken with no queue (concurrency)', () => {
    const clock = new VirtualClock();
    const queued = new HttpAdmission<Req>({ clock, concurrency: { limit: 1, maxQueue: 1, maxWaitMs: 60_000 } });
    const held = hold(queued.concurrency!);
    const waiting = queued.concurrency!.admit();
    expect(waiting).toBeInstanceOf(Promise);
    expect(now(queued.decideBeforeWork(req(), new FakeRes()))).toMatchObject({ status: 503, problem: { reason: 'queue_full' } });
    held.release('ignored');

    const noQueue = new HttpAdmission<Req>({ clock, concurrency: 1 });
    const h = hold(noQueue.concurrency!);
    const d = now(noQueue.decideBeforeWork(req(), new FakeRes()));
    expect(d).toMatchObject({ status: 503, problem: { reason: 'concurrency' } });
    expect(noQueue.concurrency!.stats()).toMatchObject({ inFlight: 1, queued: 0 });
    h.release('ignored');
  });

  it('refuses queue_timeout when the expected wait is past the budget, or there is no budget, with room in the queue', () => {
    const clock = new VirtualClock();
    const policy = new HttpAdmission<Req>({ clock, concurrency: { limit: 1, maxQueue: 10, maxWaitMs: 1000 } });
    const gate = policy.concurrency!;
    const held = hold(gate);
    // Nothing is expected yet: a free place in the queue, admitted (the slot is asked later).
    expect(admitted(policy.decideBeforeWork(req(), new FakeRes())).later?.gates).toEqual([gate]);
    // The one slot held 5 s, no release yet: at least 5 s expected, past 80% of the 1 s budget.
    clock.advance(5000);
    const d = now(policy.decideBeforeWork(req(), new FakeRes()));
    expect(d).toMatchObject({ status: 503, problem: { reason: 'queue_timeout' } });
    // A route that may not wait at all.
    const none = new HttpAdmission<Req>({ clock, concurrency: { limit: 1, maxQueue: 10, refuseEarly: false } });
    const h2 = hold(none.concurrency!);
    expect(now(none.decideBeforeWork(req(), new FakeRes(), { maxWaitMs: 0 }))).toMatchObject({ status: 503, problem: { reason: 'queue_timeout' } });
    expect(gate.stats().queued + none.concurrency!.stats().queued).toBe(0);
    held.release('ignored');
    h2.release('ignored');
  });

  it('refuses a cost above the limit (concurrency, no Retry-After)', () => {
    const policy = new HttpAdmission<Req>({ concurrency: { limit: 2, maxQueue: 5 } });
    const d = now(policy.decideBeforeWork(req(), new FakeRes(), { cost: 3 }));
    expect(d).toMatchObject({ status: 503, problem: { reason: 'concurrency' } });
    expect(d.type === 'rejected' && d.headers.some(([n]) => n === 'Retry-After')).toBe(false);
  });
});

describe('HttpAdmission.decideBeforeWork: no slot, no place in the queue; `later`', () => {
  it('admits at once with every slot taken and room in the queue, holding neither', async () => {
    const clock = new VirtualClock();
    const policy = new HttpAdmission<Req>({ clock, concurrency: { limit: 1, maxQueue: 1, maxWaitMs: 2000 }, criticality: { header: 'x-criticality' } });
    const gate = policy.concurrency!;
    const held = hold(gate);
    const a = admitted(policy.decideBeforeWork(req('192.0.2.7', { 'x-criticality': 'sheddable' }), new FakeRes(), { cost: 1 }));
    expect(gate.stats()).toMatchObject({ inFlight: 1, queued: 0 });
    expect(a.permit.permits).toEqual([]);
    expect(a.later).toEqual({ gates: [gate], context: { key: 'ip:192.0.2.7', priority: expect.any(Number) as number, cost: 1 } });
    // The gate's own maxWaitMs (2000) applies when it is asked: the context carries only the policy's budget.
    // Many more, all admitted: none took the one place in the queue.
    for (let i = 0; i < 5; i++) admitted(policy.decideBeforeWork(req(), new FakeRes()));
    expect(gate.stats()).toMatchObject({ inFlight: 1, queued: 0 });

    // Once the work can start, the caller asks `later`: it queues like any request, then joins the permit.
    const asked = gate.admit(a.later!.context);
    expect(asked).toBeInstanceOf(Promise);
    expect(gate.queued).toBe(1);
    held.release('ignored');
    const slot = await asked;
    expect(slot.ok).toBe(true);
    if (!slot.ok) return;
    const whole = new HttpPermit(a.permit.gate, [...a.permit.permits, slot], a.permit.allFacts, a.permit.classify);
    expect(gate.inFlight).toBe(1);
    whole.finish(200);
    expect(gate.inFlight).toBe(0);
  });

  it('carries the request cost and priority into `later.context`; maxWaitMs only with a finite budget', () => {
    const policy = new HttpAdmission<Req>({ concurrency: { limit: 4 }, cost: () => 3 });
    const a = admitted(policy.decideBeforeWork(req(), new FakeRes()));
    expect(a.later?.context).toMatchObject({ cost: 3 });
    expect(a.later?.context).not.toHaveProperty('maxWaitMs');
    const budgeted = new HttpAdmission<Req>({ concurrency: { limit: 4 }, budgetMs: () => 750 });
    expect(admitted(budgeted.decideBeforeWork(req(), new FakeRes())).later?.context.maxWaitMs).toBe(750);
  });

  it('has no `later` without a concurrency gate, and decide/handle never give one', () => {
    const rateOnly = new HttpAdmission<Req>({ rateLimits: [{ algorithm: 'token-bucket', rate: 10, burst: 10 }] });
    const a = admitted(rateOnly.decideBeforeWork(req(), new FakeRes()));
    expect(a.later).toBeUndefined();
    expect(a.permit.permits).toHaveLength(1);
    a.permit.release('ignored');
    const withGate = new HttpAdmission<Req>({ concurrency: { limit: 4 } });
    const d = admitted(withGate.decide(req(), new FakeRes()));
    expect(d.later).toBeUndefined();
    expect(withGate.concurrency!.inFlight).toBe(1);
    d.permit.release('ignored');
  });

  it('never asks the reclaimer to give a slot up: a slot it could free admits, one it cannot refuses', () => {
    let canFree = true;
    const asks: string[] = [];
    const reclaimer: SlotReclaimer = {
      reclaimable: (_a: ReclaimAsk) => (asks.push('reclaimable'), canFree),
      reclaim: (_a: ReclaimAsk) => (asks.push('reclaim'), true),
    };
    const gate = new ConcurrencyGate({ limit: 1, reclaimer });
    const policy = new HttpAdmission<Req>({ concurrency: gate });
    const held = hold(gate);
    asks.length = 0;
    const a = admitted(policy.decideBeforeWork(req(), new FakeRes()));
    expect(a.later?.gates).toEqual([gate]);
    canFree = false;
    expect(now(policy.decideBeforeWork(req(), new FakeRes()))).toMatchObject({ status: 503, problem: { reason: 'concurrency' } });
    expect(asks).not.toContain('reclaim');
    expect(gate.inFlight).toBe(1);
    held.release('ignored');
  });
});

describe('HttpAdmission.decideBeforeWork: unhappy paths', () => {
  it('a response already destroyed is abandoned, asking no gate', () => {
    const policy = new HttpAdmission<Req>({ rateLimits: [{ algorithm: 'token-bucket', rate: 1, burst: 1 }], concurrency: { limit: 1 } });
    const res = new FakeRes();
    res.destroyed = true;
    expect(now(policy.decideBeforeWork(req(), res))).toEqual({ type: 'abandoned' });
    admitted(policy.decideBeforeWork(req(), new FakeRes())); // the one token is still there
  });

  it('a client gone while a further gate makes it wait is abandoned: out of that queue, earlier permits back', async () => {
    const clock = new VirtualClock();
    const upstream = new ConcurrencyGate({ clock, name: 'upstream', limit: 1, maxQueue: 1, maxWaitMs: 60_000 });
    const policy = new HttpAdmission<Req>({ clock, rateLimits: [{ algorithm: 'token-bucket', rate: 1, burst: 1 }], gates: [upstream], concurrency: { limit: 1 } });
    const held = hold(upstream);
    const res = new FakeRes();
    const d = policy.decideBeforeWork(req(), res);
    expect(d).toBeInstanceOf(Promise);
    expect(upstream.queued).toBe(1);
    res.abort();
    expect(await d).toEqual({ type: 'abandoned' });
    expect(upstream.queued).toBe(0);
    expect(policy.concurrency!.stats()).toMatchObject({ inFlight: 0, queued: 0 });
    held.release('ignored');
  });

  it('a gate that throws: the error reaches the caller, earlier permits are given back, no slot taken', () => {
    const boom = new Error('gate broke');
    const clock = new VirtualClock();
    const first = new ConcurrencyGate({ clock, name: 'first', limit: 1 });
    const broken: Gate = { name: 'broken', clock, admit: () => { throw boom; }, acquire: () => Promise.reject(boom), stats: () => first.stats(), close: () => undefined };
    const policy = new HttpAdmission<Req>({ clock, gates: [first, broken], concurrency: { limit: 1 } });
    expect(() => policy.decideBeforeWork(req(), new FakeRes())).toThrow(boom);
    expect(first.inFlight).toBe(0);
    expect(policy.concurrency!.stats()).toMatchObject({ inFlight: 0, queued: 0 });
  });
});

describe('HttpAdmission.laterRefusal: a refusal of the `later` ask, rendered by the policy', () => {
  it('as `decide` renders the same gate refusing after the rate limits: status, problem, Retry-After, RateLimit headers', () => {
    const clock = new VirtualClock();
    const policy = new HttpAdmission<Req>({ clock, rateLimits: [{ algorithm: 'token-bucket', rate: 1, burst: 5, name: 'uploads' }], concurrency: { limit: 1, maxQueue: 0 } });
    const upload = admitted(policy.decideBeforeWork(req(), new FakeRes()));
    // The capacity fills while the upload comes; once its body is in, its slot is refused.
    const holder = admitted(policy.decide(req(), new FakeRes()));
    const r = upload.later!.gates[0]!.admit(upload.later!.context);
    if (r instanceof Promise || r.ok) throw new Error('expected a refusal');
    const later = policy.laterRefusal(r, upload.permit);
    const chain = now(policy.decide(req(), new FakeRes()));
    if (chain.type !== 'rejected') throw new Error('expected a refusal');
    const names = (h: readonly (readonly [string, string])[]): string[] => h.map(([n]) => n);
    expect([later.status, later.problem.reason, names(later.headers)]).toEqual([chain.status, chain.problem.reason, names(chain.headers)]);
    expect(names(later.headers)).toEqual(expect.arrayContaining(['RateLimit', 'Retry-After', 'Content-Type']));
    expect(JSON.parse(later.body)).toMatchObject({ status: 503, reason: 'concurrency' });
    holder.permit.release();
    upload.permit.release('ignored');
  });
});
