// A policy a reload removed, then a later reload brought back under its name, while a worker
// still had work of the removed one holding a slot: the pool lived on in the primary's ledger,
// and with it the running total of the slots that worker had been asked to give up for the
// removed policy's gate (slow readers cut for callers waiting at the other worker). The
// restored policy's lease counts its asks from 0, so the ledger took the old asks for asks
// still on their way, slots being given up that never came: a caller waiting at the other
// worker was never served by a cut. SlotLease over the in-memory LeaseLedger (what a gateway
// primary holds for its workers); counts only, polls bounded.
import { afterEach, describe, expect, it } from 'vitest';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import type { Permit } from '../../src/core/types.js';
import type { SlotGate } from '../../src/concurrency/slot-reclaimer.js';
import { LeaseLedger } from '../../src/shared/lease-ledger.js';
import { SlotLease } from '../../src/shared/slot-lease.js';
import { eventually } from './eventually.js';
import type { SlotYielder } from '../../src/shared/slot-lease.js';

const LIMIT = 4;
const NAME = 'api/concurrency';
const leases: SlotLease[] = [];
afterEach(async () => {
  await Promise.all(leases.splice(0).map((l) => l.stop()));
});

/** A worker's slow readers: permits it could cut, and the cuts it was asked for. */
class SlowReaders implements SlotYielder {
  readonly held: Permit[] = [];
  readonly cuts: number[] = [];
  yieldable(): { now: number; freeing: number } {
    return { now: this.held.length, freeing: 0 };
  }
  yieldSlots(_gate: SlotGate, n: number): number {
    this.cuts.push(n);
    const cut = this.held.splice(0, n);
    for (const p of cut) p.release('dropped');
    return cut.length;
  }
}

async function lease(ledger: LeaseLedger, worker: string, gate: ConcurrencyGate, initial: number, yielder?: SlotYielder, retired?: SlotLease): Promise<SlotLease> {
  const l = new SlotLease(gate, ledger.holder(worker), { name: NAME, limit: LIMIT, initial, batch: 1, tickMs: 2, ...(yielder === undefined ? {} : { yielder }) });
  leases.push(l);
  if (retired !== undefined) l.adopt(retired);
  await l.start();
  return l;
}

function admitNow(gate: ConcurrencyGate): Permit {
  const p = gate.admit({});
  if (p instanceof Promise || !p.ok) throw new Error(`${gate.name} refused a caller it had a slot for`);
  return p;
}

describe('a policy removed and restored under its name while a worker still leases for the removed one', () => {
  it("the restored lease is asked from 0: one cut for one caller waiting at the other worker, none of the removed gate's asks counted", async () => {
    const ledger = new LeaseLedger();
    // The policy as first loaded: w1 holds every slot, each on a slow reader; w2 holds none.
    const g1 = new ConcurrencyGate({ name: 'api', limit: LIMIT, maxQueue: 10 });
    const slow1 = new SlowReaders();
    const l1 = await lease(ledger, 'w1', g1, LIMIT, slow1);
    expect(l1.held).toBe(LIMIT);
    for (let i = 0; i < LIMIT; i++) slow1.held.push(admitNow(g1));
    const g2 = new ConcurrencyGate({ name: 'api', limit: LIMIT, maxQueue: 10 });
    // Its own slow readers (none): a lease with a yielder tells the ledger its callers waiting.
    const l2 = await lease(ledger, 'w2', g2, 1, new SlowReaders());
    // A caller waits at w2: w1 is asked for one slot, cuts one slow reader, and w2 gets it.
    const waited = Promise.resolve(g2.admit({}));
    expect(await eventually(() => slow1.cuts.length === 1, 1_000), 'the first cut').toBe(true);
    const served = await waited;
    expect(served.ok).toBe(true);
    // A reload removes the policy: both leases retired. w2's request ends, and two of w1's slow
    // readers; one of w1's goes on holding its slot (the pool stays in the ledger for it).
    l1.retire();
    l2.retire();
    if (served.ok) served.release();
    for (const p of slow1.held.splice(0, 2)) p.release();
    expect(slow1.held.length).toBe(1);
    expect(await eventually(() => l1.held === 1 && l2.held === 0, 1_000), `held after the removal: ${l1.held}, ${l2.held}`).toBe(true);
    expect(Object.keys(ledger.slots())).toEqual([NAME]);

    // The next reload restores the policy under its name: new gates, new leases in the same workers.
    // The removed gate still at work in w1 hands its place to the new one, whose lease takes over
    // the removed one's (as the gateway's SlotLeases.attach does): its request counts against the new gate.
    const h1 = new ConcurrencyGate({ name: 'api', limit: LIMIT, maxQueue: 10 });
    g1.handOver(h1);
    const slow1b = new SlowReaders();
    const r1 = await lease(ledger, 'w1', h1, 2, slow1b, l1);
    expect(r1.held).toBe(3);
    expect(l1.held).toBe(0);
    expect(h1.inFlight).toBe(1);
    for (let i = 0; i < 2; i++) slow1b.held.push(admitNow(h1));
    const h2 = new ConcurrencyGate({ name: 'api', limit: LIMIT, maxQueue: 10 });
    const r2 = await lease(ledger, 'w2', h2, 1, new SlowReaders());
    expect(r2.held).toBe(1);
    const busy = admitNow(h2);
    // Every slot is held (w1: the removed gate's 1 and the restored one's 2; w2: 1). A caller waits
    // at w2: w1 holds one above its share (2) on a slow reader of the restored gate, and is asked for it.
    const waiting = Promise.resolve(h2.admit({}));
    expect(await eventually(() => slow1b.cuts.length > 0, 1_000), 'the cut for the restored policy').toBe(true);
    expect(slow1b.cuts).toEqual([1]);
    const second = await waiting;
    expect(second.ok).toBe(true);
    if (second.ok) second.release();
    busy.release();
    for (const p of [...slow1.held.splice(0), ...slow1b.held.splice(0)]) p.release();
  });
});
