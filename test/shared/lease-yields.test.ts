// LeaseLedger asking a holder to give up slots its work could give up (the gateway's slow
// readers) for callers waiting at another holder: one ask per waiter, however often the waiting
// holder calls and however the asked holder's reports cross the asks; never below a holder's
// share; never a holder with callers of its own waiting. Deterministic: calls, no timers.
import { describe, expect, it } from 'vitest';
import { LeaseLedger } from '../../src/shared/lease-ledger.js';
import type { SlotUse } from '../../src/shared/limit-store.js';

const use = (u: Partial<SlotUse>): SlotUse => ({ waiting: 0, yieldable: 0, freeing: 0, asked: 0, ...u });

/** A ledger whose holders `ids` record the running totals they are asked. */
function ledger(ids: readonly string[]): { l: LeaseLedger; asks: Record<string, number[]> } {
  const l = new LeaseLedger();
  const asks: Record<string, number[]> = {};
  for (const id of ids) {
    asks[id] = [];
    l.onYield(id, (name, asked) => {
      expect(name).toBe('pool');
      asks[id]!.push(asked);
    });
  }
  return { l, asks };
}

describe('LeaseLedger: slots given up for callers waiting at another holder', () => {
  it('one ask per waiter: repeated calls of the waiting holder, and a report that crossed the ask, ask nothing more', () => {
    const { l, asks } = ledger(['a', 'b']);
    // a holds both slots, both in use by work that could give them up; b holds none.
    expect(l.takeSlots('a', 'pool', 2, 2, 2, use({ yieldable: 2 })).granted).toBe(2);
    const first = l.takeSlots('b', 'pool', 2, 1, 0, use({ waiting: 1 }));
    expect(first.granted).toBe(0);
    // What b may wait for: a's work above a's share (1 of 2).
    expect(first.idleElsewhere).toBe(1);
    expect(asks['a']).toEqual([1]);
    // b calls again at each tick while it waits.
    l.takeSlots('b', 'pool', 2, 1, 0, use({ waiting: 1 }));
    l.takeSlots('b', 'pool', 2, 1, 0, use({ waiting: 1 }));
    // a's report sent before it read the ask: nothing being freed yet, the ask not seen.
    l.takeSlots('a', 'pool', 2, 0, 2, use({ yieldable: 2 }));
    l.takeSlots('b', 'pool', 2, 1, 0, use({ waiting: 1 }));
    // a's report after the cut: one being freed, the ask seen.
    l.takeSlots('a', 'pool', 2, 0, 2, use({ yieldable: 1, freeing: 1, asked: 1 }));
    l.takeSlots('b', 'pool', 2, 1, 0, use({ waiting: 1 }));
    expect(asks['a']).toEqual([1]);
    // Freed and given back: b takes it, and nobody waits.
    l.returnSlots('a', 'pool', 1);
    expect(l.takeSlots('b', 'pool', 2, 1, 0, use({ waiting: 1 })).granted).toBe(1);
    l.takeSlots('a', 'pool', 2, 0, 1, use({ yieldable: 1, asked: 1 }));
    l.takeSlots('b', 'pool', 2, 0, 1, use({}));
    expect(asks['a']).toEqual([1]);
  });

  it('a second waiter is a second ask; slots free or idle elsewhere are asked for instead', () => {
    const { l, asks } = ledger(['a', 'b']);
    l.takeSlots('a', 'pool', 4, 4, 4, use({ yieldable: 4 }));
    l.takeSlots('b', 'pool', 4, 1, 0, use({ waiting: 1 }));
    expect(asks['a']).toEqual([1]);
    l.takeSlots('b', 'pool', 4, 2, 0, use({ waiting: 2 }));
    expect(asks['a']).toEqual([1, 2]);
    // A third: a is at its share (2 of 4) once two are being given up.
    l.takeSlots('b', 'pool', 4, 3, 0, use({ waiting: 3 }));
    expect(asks['a']).toEqual([1, 2]);
    // An idle slot at a covers a waiter: nothing asked for it.
    const { l: l2, asks: asks2 } = ledger(['a', 'b']);
    l2.takeSlots('a', 'pool', 4, 4, 3, use({ yieldable: 3 }));
    l2.takeSlots('b', 'pool', 4, 1, 0, use({ waiting: 1 }));
    expect(asks2['a']).toEqual([]);
  });

  it('nothing is asked of a holder at its share, nor of one whose own callers wait', () => {
    const { l, asks } = ledger(['a', 'b']);
    // Limit 2 on two holders: a keeps its one slot (its share), b's own is busy.
    l.takeSlots('a', 'pool', 2, 1, 1, use({ yieldable: 1 }));
    l.takeSlots('b', 'pool', 2, 1, 1, use({}));
    expect(l.takeSlots('b', 'pool', 2, 1, 1, use({ waiting: 1 })).idleElsewhere).toBe(0);
    expect(asks['a']).toEqual([]);
    // Above its share but with a waiter of its own: it cuts for that one itself.
    const { l: l2, asks: asks2 } = ledger(['a', 'b']);
    l2.takeSlots('a', 'pool', 2, 2, 2, use({ yieldable: 2 }));
    l2.takeSlots('a', 'pool', 2, 1, 2, use({ yieldable: 2, waiting: 1 }));
    l2.takeSlots('b', 'pool', 2, 1, 0, use({ waiting: 1 }));
    expect(asks2['a']).toEqual([]);
  });

  it('a holder that said nothing of its use (a store client without a yielder) is never asked', () => {
    const { l, asks } = ledger(['a', 'b']);
    l.takeSlots('a', 'pool', 2, 2, 2);
    l.takeSlots('b', 'pool', 2, 1, 0, use({ waiting: 1 }));
    expect(asks['a']).toEqual([]);
  });

  // A policy a reload removed gives its slots back and releases its name in a; b's work of it still
  // holds a slot, so the pool stays. The policy restored, a's new lease counts asks from 0: the asks
  // of the removed one, kept, were asks still on their way — slots being given up that never came.
  it('a holder that released a name and takes it again starts clean: asked from 0, none of its old asks pending', () => {
    const { l, asks } = ledger(['a', 'b']);
    l.takeSlots('a', 'pool', 4, 4, 4, use({ yieldable: 4 }));
    l.takeSlots('b', 'pool', 4, 1, 0, use({ waiting: 1 }));
    expect(asks['a']).toEqual([1]);
    l.takeSlots('a', 'pool', 4, 0, 4, use({ yieldable: 3, freeing: 1, asked: 1 }));
    l.returnSlots('a', 'pool', 1);
    expect(l.takeSlots('b', 'pool', 4, 1, 0, use({ waiting: 1 })).granted).toBe(1);
    // Removed: a's work ends, its slots go back, it releases the name; b's request runs on.
    l.returnSlots('a', 'pool', 3);
    l.releaseSlots('a', 'pool');
    expect(l.slots()['pool']).toMatchObject({ held: { a: 0, b: 1 } });
    // Restored: a holds 3 on work that could give them up, b's new lease has a caller waiting.
    expect(l.takeSlots('a', 'pool', 4, 3, 3, use({ yieldable: 3 })).granted).toBe(3);
    l.takeSlots('b', 'pool', 4, 1, 1, use({ waiting: 1 }));
    expect(asks['a']).toEqual([1, 1]);
  });
});
