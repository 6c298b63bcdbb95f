// ConcurrencyGate's early refusal (`refuseEarly`), on a virtual clock: the expected wait
// comes from the gate's own service time and its observed wait per queue position, so
// run(), compose, the HTTP adapters and the gateway all refuse the same way.
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, RejectedError, VirtualClock } from '../../src/core/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import type { Permit } from '../../src/core/index.js';
import { permit, serve } from './served.js';
import { run } from '../../src/compose/index.js';


describe('ConcurrencyGate refuseEarly', () => {
  it('refuses at once a caller expected to wait past 80% of its budget, with the estimate as retryAfterMs; queues one under it', async () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ clock, limit: 1, maxQueue: 5, maxWaitMs: 10_000, refuseEarly: true });
    serve(gate, clock, 100);
    expect(gate.serviceMs).toBe(100);
    const holder = permit(gate.admit());
    // Position 1 expects 100 ms; a 120 ms budget allows 96: refused at once, nothing queued.
    expect(gate.admit({ maxWaitMs: 120 })).toMatchObject({ ok: false, reason: 'queue_timeout', retryAfterMs: 100 });
    expect(gate.stats()).toMatchObject({ queued: 0, rejected: { queue_timeout: 1 } });
    // The same through run(): a RejectedError carrying the estimate, fn never called.
    let called = false;
    const refused = await run(gate, () => (called = true), { maxWaitMs: 120 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RejectedError);
    expect(refused).toMatchObject({ reason: 'queue_timeout', retryAfterMs: 100 });
    expect(called).toBe(false);
    // A 130 ms budget allows 104: queued, and served when the slot frees.
    const waiting = gate.admit({ maxWaitMs: 130 });
    expect(waiting).toBeInstanceOf(Promise);
    clock.advance(90);
    holder.release();
    const p = await waiting;
    expect(p.ok).toBe(true);
    if (p.ok) p.release();
    expect(gate.stats()).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('learns the observed wait per queue position (slower than the service time says) and forgets it once older than the budget', async () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ clock, limit: 1, maxQueue: 10, maxWaitMs: 1000, refuseEarly: true });
    serve(gate, clock, 10);
    // A slot taken for 400 ms: the waiter at position 1 learns 400 ms per position.
    const slow = permit(gate.admit());
    const waited = gate.admit();
    clock.advance(400);
    slow.release('ignored'); // no service-time sample: the estimate from service time stays 10 ms
    const w = await waited;
    if (!w.ok) throw new Error('expected a permit');
    // Positions 1 and 2 expect 400 and 800 ms, within 80% of 1000: queued. Position 3 (1200 ms): refused.
    const queued = [gate.admit(), gate.admit()];
    for (const q of queued) expect(q).toBeInstanceOf(Promise);
    expect(gate.admit()).toMatchObject({ ok: false, reason: 'queue_timeout', retryAfterMs: 1200 });
    // Older than the 1000 ms budget, the observed wait no longer counts: the service time (10 ms per slot) does.
    clock.advance(1001); // the two waiters time out meanwhile
    for (const q of queued) expect(await q).toMatchObject({ ok: false, reason: 'queue_timeout' });
    expect(gate.admit()).toBeInstanceOf(Promise);
    w.release('ignored');
    expect(gate.stats()).toMatchObject({ queued: 0, inFlight: 1 });
  });

  it('never refuses early while a slot is free, nor with the first grant (nothing known yet); off by default', () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ clock, limit: 1, maxQueue: 5, maxWaitMs: 10, refuseEarly: true });
    const first = permit(gate.admit());
    expect(gate.earlyRefusal()).toBeUndefined(); // full, but no service time yet and the permit just granted: the queue decides
    clock.advance(1000);
    first.release(); // 1000 ms of service, far over the 10 ms budget
    // A free slot: admitted whatever the estimate says.
    expect(gate.earlyRefusal()).toBeUndefined();
    const again = permit(gate.admit());
    expect(gate.earlyRefusal()).toMatchObject({ ok: false, reason: 'queue_timeout', retryAfterMs: 1000 });
    again.release('ignored');
    const off = new ConcurrencyGate({ clock, limit: 1, maxQueue: 5, maxWaitMs: 10 });
    serve(off, clock, 1000);
    permit(off.admit());
    expect(off.earlyRefusal()).toBeUndefined();
    expect(off.admit()).toBeInstanceOf(Promise);
  });

  it('before the first release, the age of the permits in flight is a lower bound of the service time: callers who could only time out behind them are refused', async () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ clock, limit: 2, maxQueue: 100, maxWaitMs: 100, refuseEarly: true });
    const held = [permit(gate.admit()), permit(gate.admit())];
    // With the grant nothing is known (a bound of 0): a burst queues.
    const burst = [gate.admit(), gate.admit()];
    expect(burst.every((a) => a instanceof Promise)).toBe(true);
    // 40 ms on, both permits still held: service >= 40 ms, 20 ms per position with 2 slots.
    // Positions 3 and 4 expect 60 and 80 ms, within 80 of their 100: queued. Position 5 (100 ms)
    // is refused with that as retryAfterMs. Before, every caller queued up to maxQueue and timed out.
    clock.advance(40);
    const later = [gate.admit(), gate.admit()];
    expect(later.every((a) => a instanceof Promise)).toBe(true);
    expect(gate.admit()).toMatchObject({ ok: false, reason: 'queue_timeout', retryAfterMs: 100 });
    expect(gate.earlyRefusal()).toMatchObject({ ok: false, reason: 'queue_timeout', retryAfterMs: 100 });
    expect(gate.stats()).toMatchObject({ queued: 4, rejected: { queue_timeout: 2 } });
    // The first release: the measured service time (50 ms) decides from now on.
    clock.advance(10);
    held[0]!.release();
    const first = (await burst[0]) as Permit;
    expect(first.ok).toBe(true);
    for (const p of [first, held[1]!]) p.release();
    for (const a of [burst[1]!, ...later]) ((await a) as Permit).release(); // one at a time: each is served by the last one's release
    expect(gate.stats()).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('before the first release, a permit back without a sample (ignored) leaves no bound from its grant', () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ clock, limit: 1, maxQueue: 5, maxWaitMs: 100, refuseEarly: true });
    const old = permit(gate.admit());
    clock.advance(1000);
    old.release('ignored'); // no sample: the gate still knows no service time
    permit(gate.admit()); // granted now: its age is 0
    expect(gate.earlyRefusal()).toBeUndefined();
    expect(gate.admit()).toBeInstanceOf(Promise);
    clock.advance(90); // held 90 ms: position 2 expects 180, over 80
    expect(gate.admit()).toMatchObject({ ok: false, reason: 'queue_timeout', retryAfterMs: 180 });
  });

  it('refuseEarly without a queue is an option error naming it', () => {
    expect(() => new ConcurrencyGate({ limit: 1, refuseEarly: true })).toThrow(InvalidOptionError);
    expect(() => new ConcurrencyGate({ limit: 1, refuseEarly: true })).toThrow(/refuseEarly/);
    expect(() => new ConcurrencyGate({ limit: 1, maxQueue: 1, refuseEarly: 'yes' as unknown as boolean })).toThrow(/refuseEarly.*a boolean/);
  });
});
