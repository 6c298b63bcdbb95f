// A ConcurrencyGate takes capacity and then builds the permit (its clock's reading, the admit
// event with the caller's key and priority): what throws in between must not keep the capacity.
// Listeners cannot throw into it (their errors are warnings), but the gate's clock and the
// caller's context object can. Until gwedge the units stayed taken for ever — the gate one slot
// smaller for good — and a waiter whose grant threw was taken out of the queue and never settled,
// the error thrown into the release that served it.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import type { Admission, AdmissionContext } from '../../src/core/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';

/** A virtual clock whose next `now()` throws once `fail` is set. */
class FailingClock extends VirtualClock {
  fail = false;
  override now(): number {
    if (this.fail) {
      this.fail = false;
      throw new Error('clock failed');
    }
    return super.now();
  }
}

/** A context whose `key` throws when read after `armed` (validation reads it not). */
function trap(): { ctx: AdmissionContext; arm: () => void } {
  let armed = false;
  const ctx = {
    get key(): string {
      if (armed) throw new Error('key getter failed');
      return 'k';
    },
  } as AdmissionContext;
  return { ctx, arm: () => void (armed = true) };
}

const ok = (a: Admission | Promise<Admission>): boolean => !(a instanceof Promise) && a.ok;

describe('a ConcurrencyGate whose grant throws after the capacity is taken', () => {
  it('its clock throws: admit throws and the slot stays free', () => {
    const clock = new FailingClock();
    const gate = new ConcurrencyGate({ limit: 1, clock });
    clock.fail = true;
    expect(() => gate.admit()).toThrow('clock failed');
    // Before: inFlight 1, and every later caller refused 'concurrency'.
    expect(gate.stats().inFlight).toBe(0);
    expect(ok(gate.tryAdmit())).toBe(true);
  });

  it("the caller's context throws as the admit event reads it: the slot stays free", () => {
    const gate = new ConcurrencyGate({ limit: 1, clock: new VirtualClock() });
    gate.on(() => undefined);
    const { ctx, arm } = trap();
    arm();
    expect(() => gate.admit(ctx)).toThrow('key getter failed');
    expect(gate.stats().inFlight).toBe(0);
    expect(ok(gate.admit())).toBe(true);
  });

  it('a waiter whose grant throws is rejected with the error, its slot goes to the next waiter, the release returns', async () => {
    const gate = new ConcurrencyGate({ limit: 1, maxQueue: 5, clock: new VirtualClock() });
    gate.on(() => undefined);
    const first = gate.admit();
    if (!ok(first)) throw new Error('expected a permit');
    const { ctx, arm } = trap();
    const bad = gate.acquire(ctx);
    const next = gate.acquire({ key: 'next' });
    arm();
    expect(() => (first as { release: () => void }).release()).not.toThrow();
    await expect(bad).rejects.toThrow('key getter failed');
    const p = await next;
    expect(gate.stats()).toMatchObject({ inFlight: 1, queued: 0 });
    p.release();
    expect(gate.stats().inFlight).toBe(0);
  });
});
