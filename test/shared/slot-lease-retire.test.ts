// A lease retired by a reload (its policy replaced: renamed, or any setting changed) serves
// the callers already waiting in its gate's queue before it gives its slots back. A worker
// holding no slot of the policy at that instant (the other worker had them) never asked for
// one again: its queue waited out its timeout, every request 503 (hostile-10: --workers 2, a
// policy of limit 2 renamed by SIGHUP with 20 requests in flight or queued: 9 x 503
// queue_timeout; with one process, 20 x 200). SlotLease over the in-memory LeaseLedger (what
// a gateway primary holds for its workers); counts only, polls bounded.
import { afterEach, describe, expect, it } from 'vitest';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import type { Permit } from '../../src/core/types.js';
import { LeaseLedger } from '../../src/shared/lease-ledger.js';
import { SlotLease } from '../../src/shared/slot-lease.js';
import { eventually } from './eventually.js';

const LIMIT = 2;
const leases: SlotLease[] = [];
afterEach(async () => {
  await Promise.all(leases.splice(0).map((l) => l.stop()));
});

async function holder(ledger: LeaseLedger, id: string, gate: ConcurrencyGate): Promise<SlotLease> {
  const lease = new SlotLease(gate, ledger.holder(id), { name: 'policy/concurrency', limit: LIMIT, initial: 1, batch: 1, tickMs: 2 });
  leases.push(lease);
  await lease.start();
  return lease;
}

describe('a retired SlotLease', () => {
  it('holding no slot, with callers queued: gets slots for them once the other holder gives its back', async () => {
    const ledger = new LeaseLedger();
    const a = new ConcurrencyGate({ name: 'a', limit: LIMIT, maxQueue: 100 });
    const b = new ConcurrencyGate({ name: 'b', limit: LIMIT, maxQueue: 100 });
    const la = await holder(ledger, 'a', a);
    const lb = await holder(ledger, 'b', b);
    // a is busy (one in flight, one waiting): b, idle, gives its slot to a.
    const inA: Permit[] = [];
    const first = a.admit({});
    if (first instanceof Promise || !first.ok) throw new Error('a refused its first caller');
    inA.push(first);
    const second = Promise.resolve(a.admit({})).then((p) => {
      if (p.ok) inA.push(p);
    });
    expect(await eventually(() => la.held === LIMIT && lb.held === 0)).toBe(true);
    await second;
    // Callers wait at b, which holds nothing; then a reload retires both leases.
    const admittedAtB: Permit[] = [];
    const waiting = Array.from({ length: 3 }, () =>
      Promise.resolve(b.admit({})).then((p) => {
        if (p.ok) admittedAtB.push(p);
        return p.ok;
      }),
    );
    la.retire();
    lb.retire();
    // a's work ends: its slots go back, and b's queue is served on them, one caller at a time.
    for (const p of inA.splice(0)) p.release();
    expect(await eventually(() => admittedAtB.length > 0)).toBe(true);
    for (let served = 0; served < 3; served++) {
      expect(await eventually(() => admittedAtB.length > served)).toBe(true);
      admittedAtB[served]!.release();
    }
    expect(await Promise.all(waiting)).toEqual([true, true, true]);
    // Nothing in flight or queued: both give every slot back.
    expect(await eventually(() => la.held === 0 && lb.held === 0)).toBe(true);
  });
});
