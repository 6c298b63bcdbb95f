// SlotLease over the in-memory LeaseLedger (what a gateway primary holds for its workers):
// two holders share one limit. A holder whose gate turns callers away for want of a slot
// must get the others' idle slots, even when nobody ever waits in its queue (no queue, or
// early refusals). Counts only; polls are bounded, never timed.
import { afterEach, describe, expect, it } from 'vitest';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import type { Permit } from '../../src/core/types.js';
import { LeaseLedger } from '../../src/shared/lease-ledger.js';
import { SlotLease } from '../../src/shared/slot-lease.js';

const LIMIT = 10;
const leases: SlotLease[] = [];
afterEach(async () => {
  await Promise.all(leases.splice(0).map((l) => l.stop()));
});

async function holder(ledger: LeaseLedger, id: string, gate: ConcurrencyGate): Promise<SlotLease> {
  const lease = new SlotLease(gate, ledger.holder(id), { name: 'pool', limit: LIMIT, initial: LIMIT / 2, batch: 2, tickMs: 2 });
  leases.push(lease);
  await lease.start();
  return lease;
}

/** Poll until `cond` holds, at most `tries` times 10 ms apart; whether it held. */
async function eventually(cond: () => boolean, tries = 1_000): Promise<boolean> {
  for (let i = 0; i < tries && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  return cond();
}

function take(gate: ConcurrencyGate, held: Permit[]): boolean {
  const a = gate.tryAdmit();
  if (a.ok) held.push(a);
  return a.ok;
}

describe('SlotLease demand', () => {
  it.each([
    ['no queue (maxQueue 0): refused at once', { maxQueue: 0 }],
    ['a queue, but every caller refused early', { maxQueue: 100, maxWaitMs: 1, refuseEarly: true }],
  ])('%s: refusals are demand — the busy holder gets the idle one’s slots', async (_name, options) => {
    const ledger = new LeaseLedger();
    const busy = new ConcurrencyGate({ name: 'busy', limit: LIMIT, ...options });
    const idle = new ConcurrencyGate({ name: 'idle', limit: LIMIT });
    const a = await holder(ledger, 'a', busy);
    const b = await holder(ledger, 'b', idle);
    expect([a.held, b.held]).toEqual([LIMIT / 2, LIMIT / 2]);
    // A service time measured (early refusals estimate the wait from it): one permit held 30 ms.
    const first = busy.tryAdmit();
    if (!first.ok) throw new Error('the first caller is refused');
    await new Promise((r) => setTimeout(r, 30));
    first.release();
    const held: Permit[] = [];
    // Callers keep coming to the busy holder; none of them ever waits in its queue.
    const grown = await eventually(() => {
      while (take(busy, held));
      const admitted = busy.admit({});
      if (admitted instanceof Promise) throw new Error('a caller queued: this case is about callers who never do');
      return held.length === LIMIT - 1;
    });
    expect(grown).toBe(true);
    // The idle holder keeps its floor of one slot; the ledger never lends more than the limit.
    expect(b.held).toBe(1);
    expect(a.held + b.held).toBeLessThanOrEqual(LIMIT);
    for (const p of held) p.release();
  });
});

describe('SlotLease keeps its fair share through a momentary lull', () => {
  it('a holder whose queue empties for a few ticks between bursts keeps its share; the other, always waiting, does not take it', async () => {
    const ledger = new LeaseLedger();
    const a = new ConcurrencyGate({ name: 'a', limit: LIMIT, maxQueue: 100 });
    const b = new ConcurrencyGate({ name: 'b', limit: LIMIT, maxQueue: 100 });
    const la = await holder(ledger, 'a', a);
    const lb = await holder(ledger, 'b', b);
    // b always has more callers than slots: it asks for more at every tick.
    let stop = false;
    const bCallers = Array.from({ length: LIMIT + 2 }, async () => {
      while (!stop) {
        const p = await b.admit({});
        if (!p.ok) continue;
        await new Promise((r) => setImmediate(r));
        p.release();
      }
    });
    // a: bursts of LIMIT callers, then a lull of ~3 ticks (6 ms at 2 ms a tick) with nobody at all.
    let lowest = Infinity;
    for (let burst = 0; burst < 20; burst++) {
      await Promise.all(
        Array.from({ length: LIMIT }, async () => {
          const p = await a.admit({ maxWaitMs: 1_000 });
          await new Promise((r) => setTimeout(r, 2));
          if (p.ok) p.release();
        }),
      );
      await new Promise((r) => setTimeout(r, 6));
      lowest = Math.min(lowest, la.held);
    }
    stop = true;
    await Promise.all(bCallers);
    // Before: each lull gave a's idle slots back down to 1 and b took them (lowest 1).
    expect(lowest).toBeGreaterThanOrEqual(LIMIT / 2);
    expect(la.held + lb.held).toBeLessThanOrEqual(LIMIT);
  });
});

describe('SlotLease at its fair share while the other wants slots too', () => {
  it('asks less often, yet takes the other’s slots once the other’s demand ends', async () => {
    const ledger = new LeaseLedger();
    const a = new ConcurrencyGate({ name: 'a', limit: LIMIT, maxQueue: 100 });
    const b = new ConcurrencyGate({ name: 'b', limit: LIMIT, maxQueue: 100 });
    let asksOfB = 0;
    const store = ledger.holder('b');
    const counted = { ...store, takeSlots: (...args: Parameters<typeof store.takeSlots>) => (asksOfB++, store.takeSlots(...args)) };
    const la = await holder(ledger, 'a', a);
    const lb = new SlotLease(b, counted, { name: 'pool', limit: LIMIT, initial: LIMIT / 2, batch: 2, tickMs: 2 });
    leases.push(lb);
    await lb.start();
    // Both always have more callers than slots.
    let stopA = false;
    let stopB = false;
    const loop = (gate: ConcurrencyGate, stopped: () => boolean): Promise<void>[] =>
      Array.from({ length: LIMIT + 2 }, async () => {
        while (!stopped()) {
          const p = await gate.admit({});
          if (!p.ok) continue;
          await new Promise((r) => setImmediate(r));
          p.release();
        }
      });
    const aCallers = loop(a, () => stopA);
    const bCallers = loop(b, () => stopB);
    // Each at its fair share, and b has said so to the ledger.
    expect(await eventually(() => la.held === LIMIT / 2 && lb.held === LIMIT / 2 && lb.fairShare === LIMIT / 2)).toBe(true);
    // At its share, b asks every 10th tick (it asked at every tick before): counted against a
    // timer of the same period, with room for either to slip on a busy machine.
    const before = asksOfB;
    let aTicks = 0;
    const timer = setInterval(() => aTicks++, 2);
    await new Promise((r) => setTimeout(r, 200));
    clearInterval(timer);
    expect(asksOfB - before).toBeLessThanOrEqual(Math.ceil(aTicks / 4) + 2);
    // a's demand ends: b gets a's slots down to a's floor of one.
    stopA = true;
    await Promise.all(aCallers);
    expect(await eventually(() => lb.held === LIMIT - 1)).toBe(true);
    expect(la.held + lb.held).toBeLessThanOrEqual(LIMIT);
    stopB = true;
    await Promise.all(bCallers);
  });
});
