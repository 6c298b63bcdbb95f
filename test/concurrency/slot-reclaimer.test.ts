// ConcurrencyGate's `reclaimer`: a holder of slots asked to give one up before a caller the full
// limit keeps out is queued, refused or refused early (slot-reclaimer.ts). The gateway's slow
// readers are one; here a holder that keeps permits and gives up the oldest, on a virtual clock.
import { describe, expect, it } from 'vitest';
import { flushMicrotasks, InvalidOptionError, VirtualClock } from '../../src/core/index.js';
import type { Admission, Permit } from '../../src/core/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import type { ReclaimAsk, SlotGate as Gate, SlotReclaimer } from '../../src/concurrency/index.js';
import { permit, serve } from './served.js';

/** Holds permits it was given, per gate, and gives up the oldest when asked; records every ask. */
class Holder implements SlotReclaimer {
  readonly asks: ReclaimAsk[] = [];
  readonly held = new Map<Gate, Permit[]>();
  hold(gate: Gate, p: Permit): void {
    this.held.set(gate, [...(this.held.get(gate) ?? []), p]);
  }
  reclaimable(ask: ReclaimAsk): boolean {
    return ask.gates.some((g) => (this.held.get(g)?.length ?? 0) > 0);
  }
  reclaim(ask: ReclaimAsk): boolean {
    this.asks.push(ask);
    for (const g of ask.gates) {
      const p = this.held.get(g)?.shift();
      if (p === undefined) continue;
      p.release('ignored');
      return true;
    }
    return false;
  }
}

describe('ConcurrencyGate reclaimer', () => {
  it('a caller that finds every slot taken takes one its holder gives up; without one to give, it is refused as before', () => {
    const clock = new VirtualClock();
    const holder = new Holder();
    const gate = new ConcurrencyGate({ name: 'g', clock, limit: 2, reclaimer: holder });
    const kept = permit(gate.admit());
    holder.hold(gate, permit(gate.admit()));
    const a = gate.admit();
    expect(a).toMatchObject({ ok: true });
    expect(holder.asks).toEqual([{ gate, gates: [gate], units: 1, partition: 'default' }]);
    expect(gate.stats()).toMatchObject({ inFlight: 2 });
    // Nothing held any more: refused 'concurrency', nothing else released.
    expect(gate.admit()).toMatchObject({ ok: false, reason: 'concurrency' });
    expect(gate.tryAdmit()).toMatchObject({ ok: false, reason: 'concurrency' });
    expect(gate.stats()).toMatchObject({ inFlight: 2 });
    kept.release();
    (a as Permit).release();
    expect(gate.stats()).toMatchObject({ inFlight: 0 });
  });

  it('is not asked while a slot is free, nor for a cost above the limit', () => {
    const holder = new Holder();
    const gate = new ConcurrencyGate({ clock: new VirtualClock(), limit: 2, reclaimer: holder });
    holder.hold(gate, permit(gate.admit()));
    expect(gate.admit()).toMatchObject({ ok: true });
    expect(gate.admit({ cost: 3 })).toMatchObject({ ok: false, reason: 'concurrency', retryAfterMs: Infinity });
    expect(holder.asks).toEqual([]);
    expect(holder.held.get(gate)).toHaveLength(1);
  });

  it('a room made serves the queue first: the caller queues behind the waiter it went to', async () => {
    const holder = new Holder();
    const gate = new ConcurrencyGate({ clock: new VirtualClock(), limit: 1, maxQueue: 5, reclaimer: holder });
    const first = permit(gate.admit());
    const waiting = gate.admit(); // nothing held: asked, nothing given, queued
    expect(waiting).toBeInstanceOf(Promise);
    holder.hold(gate, first);
    const next = gate.admit(); // the room made for it goes to the waiter ahead
    expect(next).toBeInstanceOf(Promise);
    expect(await waiting).toMatchObject({ ok: true });
    expect(holder.asks).toHaveLength(2);
    expect(gate.stats()).toMatchObject({ inFlight: 1, queued: 1 });
  });

  it('no early refusal while room can be made; asking for one gives nothing up', () => {
    const clock = new VirtualClock();
    const holder = new Holder();
    const gate = new ConcurrencyGate({ clock, limit: 1, maxQueue: 5, maxWaitMs: 100, refuseEarly: true, reclaimer: holder });
    serve(gate, clock, 1_000); // a slot is held 1 s: a full gate's wait is past any 100 ms budget
    const p = permit(gate.admit());
    expect(gate.earlyRefusal()).toMatchObject({ reason: 'queue_timeout' });
    holder.hold(gate, p);
    expect(gate.earlyRefusal()).toBeUndefined();
    expect(gate.stats()).toMatchObject({ inFlight: 1 });
    expect(holder.asks).toEqual([]);
    // admit() makes the room rather than refuse early.
    expect(gate.admit()).toMatchObject({ ok: true });
    expect(gate.stats().rejected).toMatchObject({ queue_timeout: 1, concurrency: 0 }); // the earlyRefusal() asked before the permit was held
  });

  it('reclaimForWaiters: room for as many waiters as the holder can give, oldest first', async () => {
    const clock = new VirtualClock();
    const holder = new Holder();
    const gate = new ConcurrencyGate({ clock, limit: 2, maxQueue: 5, reclaimer: holder });
    const kept = permit(gate.admit());
    const given = permit(gate.admit());
    const waits = [gate.admit(), gate.admit()] as Promise<Admission>[];
    expect(gate.reclaimForWaiters()).toBe(0); // nothing held
    holder.hold(gate, given);
    expect(gate.reclaimForWaiters()).toBe(1);
    let second: Admission | undefined;
    void waits[1]!.then((a) => (second = a));
    expect(await waits[0]).toMatchObject({ ok: true });
    await flushMicrotasks();
    expect(second).toBeUndefined();
    expect(gate.stats()).toMatchObject({ inFlight: 2, queued: 1 });
    kept.release();
  });

  it('after handOver, the successor asks for room among its predecessor\'s permits too', () => {
    const clock = new VirtualClock();
    const holder = new Holder();
    const old = new ConcurrencyGate({ name: 'old', clock, limit: 2, reclaimer: holder });
    holder.hold(old, permit(old.admit()));
    holder.hold(old, permit(old.admit()));
    const next = new ConcurrencyGate({ name: 'new', clock, limit: 2, reclaimer: holder });
    old.handOver(next);
    expect(next.admit()).toMatchObject({ ok: true });
    expect(holder.asks.map((a) => a.gates)).toEqual([[next, old]]);
    expect(next.stats()).toMatchObject({ inFlight: 2 });
    // A caller that still reaches the old gate is the successor's: the last old permit is given up for it.
    expect(old.admit()).toMatchObject({ ok: true });
    // Every old permit back: the old gate is no longer named.
    expect(next.admit()).toMatchObject({ ok: false, reason: 'concurrency' });
    expect(holder.asks.map((a) => a.gates)).toEqual([[next, old], [next, old], [next]]);
  });

  it('partitions: a caller held back by another partition\'s reserved share, not by the full limit, asks nobody', () => {
    const holder = new Holder();
    const gate = new ConcurrencyGate({ clock: new VirtualClock(), limit: 4, maxQueue: 5, partitions: { a: { share: 0.5 }, b: { share: 0.5 } }, reclaimer: holder });
    permit(gate.admit({ partition: 'b' })); // b's own, not the holder's
    holder.hold(gate, permit(gate.admit({ partition: 'b' })));
    // a's caller of cost 3 does not fit the limit (2 + 3 > 4): room is made for it (one unit).
    const big = gate.admit({ partition: 'a', cost: 3 });
    expect(holder.asks).toEqual([{ gate, gates: [gate], units: 1, partition: 'a' }]);
    expect(big).toMatchObject({ ok: true });
    (big as Permit).release();
    // a's caller of cost 4 beside b's permit: asked, nothing to give, it waits — below a's guarantee, so a's 2 slots are held back for it.
    expect(gate.admit({ partition: 'a', cost: 4 })).toBeInstanceOf(Promise);
    expect(holder.asks).toHaveLength(2);
    holder.hold(gate, permit(gate.admit({ partition: 'b' }))); // b at its guarantee (2 of 4)
    // b's next caller: 2 + 1 <= 4, but b is past its guarantee and a's share is held back: b queues, and
    // the holder is not asked (a slot it gave would go to a's waiter, not to this caller).
    expect(gate.admit({ partition: 'b' })).toBeInstanceOf(Promise);
    expect(holder.asks).toHaveLength(2);
    expect(holder.held.get(gate)).toHaveLength(1);
  });

  it('a reclaimer without reclaim and reclaimable is a config error naming the option', () => {
    expect(() => new ConcurrencyGate({ limit: 1, reclaimer: {} as SlotReclaimer })).toThrow(InvalidOptionError);
    expect(() => new ConcurrencyGate({ limit: 1, reclaimer: {} as SlotReclaimer })).toThrow(/reclaimer/);
  });
});
