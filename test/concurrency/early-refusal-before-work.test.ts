// ConcurrencyGate.earlyRefusal(ctx, beforeWork): what a caller whose work cannot start yet (an
// upload still arriving; HttpAdmission.decideBeforeWork) relies on. It answers what no wait
// could spare — cost over the limit, every slot taken and no queue, the queue full, no wait
// budget, and (with refuseEarly) the wait estimate past the budget — takes no slot and no place
// in the queue, and never asks the reclaimer to give a slot up. Virtual clock.
import { describe, expect, it } from 'vitest';
import { AbortedError, VirtualClock } from '../../src/core/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import type { ReclaimAsk, SlotReclaimer } from '../../src/concurrency/index.js';
import { permit } from './served.js';

describe('ConcurrencyGate.earlyRefusal with beforeWork', () => {
  it('says nothing while a slot is free, and takes none', () => {
    const gate = new ConcurrencyGate({ clock: new VirtualClock(), limit: 1 });
    expect(gate.earlyRefusal({}, true)).toBeUndefined();
    expect(gate.stats()).toMatchObject({ inFlight: 0, queued: 0, admitted: 0 });
  });

  it('refuses every slot taken with no queue (concurrency, naming maxQueue), where earlyRefusal alone says nothing', () => {
    const gate = new ConcurrencyGate({ clock: new VirtualClock(), limit: 1 });
    const held = permit(gate.admit());
    expect(gate.earlyRefusal({})).toBeUndefined();
    const r = gate.earlyRefusal({}, true);
    expect(r).toMatchObject({ ok: false, reason: 'concurrency' });
    expect(r?.detail).toMatch(/maxQueue/);
    expect(gate.stats()).toMatchObject({ inFlight: 1, queued: 0, rejected: { concurrency: 1 } });
    held.release();
  });

  it('refuses a full queue (queue_full) and a caller with no wait budget (queue_timeout), without refuseEarly', () => {
    const gate = new ConcurrencyGate({ clock: new VirtualClock(), limit: 1, maxQueue: 1, refuseEarly: false });
    const held = permit(gate.admit());
    // Room in the queue: nothing to refuse, and no place taken in it.
    expect(gate.earlyRefusal({ maxWaitMs: 1000 }, true)).toBeUndefined();
    expect(gate.queued).toBe(0);
    expect(gate.earlyRefusal({ maxWaitMs: 0 }, true)).toMatchObject({ reason: 'queue_timeout' });
    const waiting = gate.admit();
    expect(waiting).toBeInstanceOf(Promise);
    expect(gate.earlyRefusal({}, true)).toMatchObject({ reason: 'queue_full' });
    expect(gate.stats()).toMatchObject({ inFlight: 1, queued: 1 });
    gate.close();
    held.release();
  });

  it('refuses a cost over the limit for good (retryAfterMs Infinity), even with a slot free', () => {
    const gate = new ConcurrencyGate({ clock: new VirtualClock(), limit: 2, maxQueue: 4 });
    expect(gate.earlyRefusal({ cost: 3 }, true)).toMatchObject({ reason: 'concurrency', retryAfterMs: Infinity });
    expect(gate.earlyRefusal({ cost: 2 }, true)).toBeUndefined();
  });

  it('with refuseEarly, refuses a wait expected past 80% of the budget; without it, only what no wait could spare', () => {
    const clock = new VirtualClock();
    const early = new ConcurrencyGate({ clock, limit: 1, maxQueue: 5, maxWaitMs: 1000, refuseEarly: true });
    const late = new ConcurrencyGate({ clock, limit: 1, maxQueue: 5, maxWaitMs: 1000, refuseEarly: false });
    const held = [permit(early.admit()), permit(late.admit())];
    clock.advance(5000); // the one slot held 5 s: at least 5 s expected at position 1
    expect(early.earlyRefusal({}, true)).toMatchObject({ reason: 'queue_timeout' });
    expect(late.earlyRefusal({}, true)).toBeUndefined();
    for (const h of held) h.release('ignored');
  });

  it('never asks the reclaimer to give a slot up: only whether it could (a slot it could free refuses nobody)', () => {
    const asks: string[] = [];
    let canFree = true;
    const reclaimer: SlotReclaimer = {
      reclaimable: (_a: ReclaimAsk) => (asks.push('reclaimable'), canFree),
      reclaim: (_a: ReclaimAsk) => (asks.push('reclaim'), true),
    };
    const gate = new ConcurrencyGate({ clock: new VirtualClock(), limit: 1, reclaimer });
    const held = permit(gate.admit());
    expect(gate.earlyRefusal({}, true)).toBeUndefined();
    canFree = false;
    expect(gate.earlyRefusal({}, true)).toMatchObject({ reason: 'concurrency' });
    expect(asks).toEqual(['reclaimable', 'reclaimable']);
    expect(gate.inFlight).toBe(1);
    held.release();
  });

  it('a reclaimer whose reclaimable() throws: the error reaches the caller, nothing taken', () => {
    const boom = new Error('reclaimer broke');
    const reclaimer: SlotReclaimer = { reclaimable: () => { throw boom; }, reclaim: () => false };
    const gate = new ConcurrencyGate({ clock: new VirtualClock(), limit: 1, reclaimer });
    const held = permit(gate.admit());
    expect(() => gate.earlyRefusal({}, true)).toThrow(boom);
    expect(gate.stats()).toMatchObject({ inFlight: 1, queued: 0 });
    held.release();
  });

  it('an aborted caller is not refused early nor counted: admit() then gives it its AbortedError', async () => {
    const gate = new ConcurrencyGate({ clock: new VirtualClock(), limit: 1 });
    const held = permit(gate.admit());
    const signal = AbortSignal.abort();
    expect(gate.earlyRefusal({ signal }, true)).toBeUndefined();
    expect(gate.stats().rejected).toMatchObject({ concurrency: 0 });
    await expect(gate.admit({ signal })).rejects.toBeInstanceOf(AbortedError);
    held.release();
  });

  it('a closed gate says nothing early (admit() refuses closed); a bad context is a clear error', () => {
    const gate = new ConcurrencyGate({ clock: new VirtualClock(), limit: 1 });
    const held = permit(gate.admit());
    expect(() => gate.earlyRefusal({ cost: 0 }, true)).toThrow(/cost/);
    gate.close();
    expect(gate.earlyRefusal({}, true)).toBeUndefined();
    expect(gate.admit()).toMatchObject({ ok: false, reason: 'closed' });
    held.release();
  });

  it('a gate replaced in a reload answers for its successor', () => {
    const clock = new VirtualClock();
    const old = new ConcurrencyGate({ clock, limit: 4 });
    const next = new ConcurrencyGate({ clock, limit: 1 });
    old.handOver(next);
    const held = permit(next.admit());
    expect(old.earlyRefusal({}, true)).toMatchObject({ reason: 'concurrency' });
    held.release();
  });
});
