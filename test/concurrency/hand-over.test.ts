// ConcurrencyGate.handOver: a gate a reload replaced gives its place to the new one, so that one
// limit holds — its permits count against the successor until released, its waiters move there.
import { describe, expect, it } from 'vitest';
import { flushMicrotasks, InvalidArgumentError, VirtualClock } from '../../src/core/index.js';
import type { Admission, AdmissionContext, Permit } from '../../src/core/index.js';
import { ADMITTED_AGAIN, GatePermit } from '../../src/core/gate-base.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { serve } from './served.js';

function permit(a: Admission | Promise<Admission>): Permit {
  if (a instanceof Promise || !a.ok) throw new Error('expected an immediate permit');
  return a;
}

describe('ConcurrencyGate.handOver', () => {
  it('a raised limit serves the old waiters at once, up to the new limit counting the old permits', async () => {
    const clock = new VirtualClock();
    const old = new ConcurrencyGate({ name: 'old', limit: 1, maxQueue: 5, clock });
    const held = permit(old.admit());
    const waits = [old.admit(), old.admit(), old.admit()] as Promise<Admission>[];
    const next = new ConcurrencyGate({ name: 'new', limit: 3, maxQueue: 5, clock });
    old.handOver(next);
    expect(next.stats()).toMatchObject({ inFlight: 3, queued: 1, limit: 3 });
    expect(old.stats()).toMatchObject({ inFlight: 1, queued: 0 });
    const [a, b] = (await Promise.all(waits.slice(0, 2))) as Permit[];
    expect(a!.ok && b!.ok).toBe(true);
    let third: Admission | undefined;
    void waits[2]!.then((x) => (third = x));
    await flushMicrotasks();
    expect(third).toBeUndefined();
    held.release(); // the old permit comes back: the successor's last waiter is served
    await flushMicrotasks();
    expect(third).toMatchObject({ ok: true });
    expect(next.stats()).toMatchObject({ inFlight: 3, queued: 0 });
    // Its permits release on the successor.
    (third as Permit).release();
    expect(next.stats()).toMatchObject({ inFlight: 2 });
  });

  it('the successor takes the old gate\'s service-time estimate: early refusals go on across a reload', async () => {
    const clock = new VirtualClock();
    const options = { limit: 1, maxQueue: 20, maxWaitMs: 1000, refuseEarly: true, clock } as const;
    const old = new ConcurrencyGate({ name: 'old', ...options });
    serve(old, clock, 100); // 100 ms per permit: position k expects k × 100 ms, 8 fit in 80% of 1000
    const held = permit(old.admit());
    const waits: Promise<Admission>[] = Array.from({ length: 5 }, () => old.admit() as Promise<Admission>);
    const next = new ConcurrencyGate({ name: 'new', ...options });
    old.handOver(next);
    expect(next.stats()).toMatchObject({ queued: 5 });
    expect(next.serviceMs).toBe(100);
    // Positions 6 to 8 queue; 9 (900 ms) is refused. Before, a new gate knew nothing and queued
    // every caller up to maxQueue until its first release.
    waits.push(...Array.from({ length: 3 }, () => next.admit() as Promise<Admission>));
    expect(waits.every((w) => w instanceof Promise)).toBe(true);
    expect(next.admit()).toMatchObject({ ok: false, reason: 'queue_timeout', retryAfterMs: 900, gate: 'new' });
    held.release();
    for (const w of waits) {
      const p = (await w) as Permit;
      expect(p.ok).toBe(true);
      p.release();
    }
  });

  it('the old gate\'s permits released after the hand-over teach the successor: the age of a permit gone is no bound', async () => {
    const clock = new VirtualClock();
    const options = { limit: 1, maxQueue: 5, maxWaitMs: 5000, refuseEarly: true, clock } as const;
    const old = new ConcurrencyGate({ name: 'old', ...options });
    const held = permit(old.admit()); // granted at 0, before any release: the bound runs from 0
    clock.advance(1000);
    const next = new ConcurrencyGate({ name: 'new', ...options });
    old.handOver(next);
    clock.advance(100);
    held.release(); // 1100 ms of service, measured after the reload
    clock.advance(60_000);
    const now = permit(next.admit());
    // One position at 1100 ms is within 80% of 5000: queued. Before, the successor's bound still
    // ran from the old permit's grant (60 s ago, long released): refused queue_timeout, retryAfterMs 61100.
    const waiting = next.admit();
    expect(waiting).toBeInstanceOf(Promise);
    now.release();
    expect(await waiting).toMatchObject({ ok: true });
    ((await waiting) as Permit).release();
    expect(next.stats()).toMatchObject({ inFlight: 0, queued: 0 });
    // The old permit's 1100 ms was the successor's first sample.
    expect(next.serviceMs).toBeGreaterThan(0);
  });

  it('an old permit back without a sample (ignored) after the hand-over leaves the successor no bound from its grant', () => {
    const clock = new VirtualClock();
    const options = { limit: 1, maxQueue: 5, maxWaitMs: 5000, refuseEarly: true, clock } as const;
    const old = new ConcurrencyGate({ name: 'old', ...options });
    const held = permit(old.admit());
    const next = new ConcurrencyGate({ name: 'new', ...options });
    old.handOver(next);
    clock.advance(10_000);
    held.release('ignored');
    const now = permit(next.admit()); // its own first grant: a bound of 0
    expect(next.admit()).toBeInstanceOf(Promise);
    now.release();
  });

  it('a lowered limit admits nobody until what is in flight, old and new, is under it', () => {
    const clock = new VirtualClock();
    const old = new ConcurrencyGate({ name: 'old', limit: 3, clock });
    const held = [permit(old.admit()), permit(old.admit()), permit(old.admit())];
    const next = new ConcurrencyGate({ name: 'new', limit: 1, clock });
    old.handOver(next);
    expect(next.admit()).toMatchObject({ ok: false, reason: 'concurrency' });
    held[0]!.release();
    held[1]!.release();
    expect(next.stats()).toMatchObject({ inFlight: 1 });
    expect(next.tryAdmit()).toMatchObject({ ok: false, reason: 'concurrency' });
    // A caller that still reaches the old gate is the successor's.
    expect(old.admit()).toMatchObject({ ok: false, reason: 'concurrency', gate: 'new' });
    held[2]!.release();
    const p = permit(next.admit());
    expect(next.stats()).toMatchObject({ inFlight: 1 });
    p.release();
    expect(next.stats().inFlight).toBe(0);
  });

  it('waiters that do not fit the successor are refused as its newcomers would be', async () => {
    const clock = new VirtualClock();
    const old = new ConcurrencyGate({ name: 'old', limit: 2, maxQueue: 5, clock });
    permit(old.admit({ cost: 2 }));
    const waits = [old.admit({ cost: 2 }), old.admit(), old.admit()];
    const next = new ConcurrencyGate({ name: 'new', limit: 1, maxQueue: 1, clock });
    old.handOver(next);
    const [big, queued, full] = [waits[0], waits[1], waits[2]] as Promise<Admission>[];
    expect(await big).toMatchObject({ ok: false, reason: 'concurrency', gate: 'new' });
    expect(await full).toMatchObject({ ok: false, reason: 'queue_full', gate: 'new' });
    expect(next.stats()).toMatchObject({ inFlight: 2, queued: 1 });
    void queued;
  });

  it('a chain of reloads carries the oldest permits to the last gate; a gate is handed over once', () => {
    const clock = new VirtualClock();
    const g1 = new ConcurrencyGate({ name: 'g1', limit: 2, clock });
    const p1 = permit(g1.admit());
    const g2 = new ConcurrencyGate({ name: 'g2', limit: 2, clock });
    g1.handOver(g2);
    const p2 = permit(g2.admit());
    const g3 = new ConcurrencyGate({ name: 'g3', limit: 2, clock });
    g2.handOver(g3);
    expect(g3.stats().inFlight).toBe(2);
    expect(g3.admit()).toMatchObject({ ok: false });
    p1.release();
    p2.release();
    expect(g3.stats().inFlight).toBe(0);
    expect(() => g1.handOver(g3)).toThrow(InvalidArgumentError);
    expect(() => g3.handOver(g3)).toThrow(InvalidArgumentError);
  });
});

describe('a second grant passed on to the successor (ADMITTED_AGAIN: an Expect: 100-continue upload)', () => {
  it('is released at the gate that counted its admission: each gate admitted − released = in flight, one admit and one release told', () => {
    const old = new ConcurrencyGate({ name: 'g', limit: 2 });
    const next = new ConcurrencyGate({ name: 'g', limit: 2 });
    const told: string[] = [];
    for (const g of [old, next]) g.on((e) => told.push(e.type));
    const first = old.tryAdmit();
    if (!(first instanceof GatePermit)) throw new Error('expected a permit');
    first.setAside(); // its body uploads: no slot held meanwhile
    old.handOver(next);
    const again = permit(old.admit({ [ADMITTED_AGAIN]: true } as AdmissionContext));
    expect(next.stats()).toMatchObject({ inFlight: 1, admitted: 0, released: 0 });
    again.release();
    expect(next.stats()).toMatchObject({ inFlight: 0, admitted: 0, released: 0 });
    expect(old.stats()).toMatchObject({ inFlight: 0, admitted: 1, released: 1 });
    expect(told.filter((t) => t === 'admit' || t === 'release')).toEqual(['admit', 'release']);
  });
});
