// A lease's ballast (the gate's one slot held until leases are granted: ConcurrencyGate.hold)
// is no admission. Before, hold() granted it as one: every start, and every time a worker's
// leases ran out, the gate counted an admission and a release 'ignored' that no request made,
// and sluice_admissions_total / /status gates[].admitted of a gateway with 2 workers ran ahead
// of the requests its upstream saw (probed: 113 admitted for 110 forwarded, no Expect).
import { afterEach, describe, expect, it } from 'vitest';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import type { GateEvent } from '../../src/core/events.js';
import { LeaseLedger } from '../../src/shared/lease-ledger.js';
import { SlotLease } from '../../src/shared/slot-lease.js';

const leases: SlotLease[] = [];
afterEach(async () => {
  await Promise.all(leases.splice(0).map((l) => l.stop()));
});

describe('a held slot (a lease ballast)', () => {
  it('takes a slot, but is neither counted nor told as an admission or a release', () => {
    const gate = new ConcurrencyGate({ name: 'g', limit: 2 });
    const events: GateEvent['type'][] = [];
    gate.on((e) => events.push(e.type));
    const ballast = gate.hold();
    // Its slot is taken (one caller fits of two), but no request is in flight on it.
    expect(gate.stats()).toMatchObject({ inFlight: 0, admitted: 0 });
    const caller = gate.tryAdmit();
    expect(caller.ok).toBe(true);
    expect(gate.tryAdmit()).toMatchObject({ ok: false, reason: 'concurrency' });
    expect(gate.stats()).toMatchObject({ inFlight: 1, admitted: 1 });
    ballast.release('ignored');
    expect(gate.stats()).toMatchObject({ inFlight: 1, admitted: 1, released: 0 });
    // The slot it held is free again.
    const next = gate.tryAdmit();
    expect(next.ok).toBe(true);
    if (caller.ok) caller.release();
    if (next.ok) next.release();
    expect(gate.stats()).toMatchObject({ inFlight: 0, admitted: 2, released: 2 });
    expect(events.filter((t) => t === 'admit' || t === 'release')).toEqual(['admit', 'admit', 'release', 'release']);
  });

  it('a lease started and stopped counts no admission on its gate', async () => {
    const ledger = new LeaseLedger();
    const gate = new ConcurrencyGate({ name: 'pool', limit: 10 });
    const events: GateEvent['type'][] = [];
    gate.on((e) => events.push(e.type));
    const lease = new SlotLease(gate, ledger.holder('a'), { name: 'pool', limit: 10, initial: 5, batch: 2, tickMs: 2 });
    leases.push(lease);
    await lease.start();
    expect(lease.held).toBe(5);
    expect(gate.stats()).toMatchObject({ inFlight: 0, admitted: 0, released: 0 });
    expect(events).not.toContain('admit');
    expect(events).not.toContain('release');
  });

  it('a lease that holds no slot (another holder has them all): /status in flight 0, not its ballast', async () => {
    const ledger = new LeaseLedger();
    // Worker b holds both slots of the shared limit 2, as at the end of the workers' reload test.
    expect(await ledger.holder('b').takeSlots('pool', 2, 2)).toMatchObject({ granted: 2 });
    const gate = new ConcurrencyGate({ name: 'pool', limit: 2 });
    const lease = new SlotLease(gate, ledger.holder('a'), { name: 'pool', limit: 2, initial: 1, batch: 1, tickMs: 1_000 });
    leases.push(lease);
    await lease.start();
    expect(lease.held).toBe(0);
    // Nothing is admitted on it (the ballast fills the gate's one slot)...
    expect(gate.tryAdmit()).toMatchObject({ ok: false, reason: 'concurrency' });
    // ...and nothing runs: in flight is what requests hold.
    expect(gate.stats()).toMatchObject({ inFlight: 0, admitted: 0, released: 0, limit: 1 });
  });
});

describe('a held slot handed over by a reload (ConcurrencyGate.handOver)', () => {
  it('counts against the successor until released, but not in its in-flight requests', () => {
    const old = new ConcurrencyGate({ name: 'old', limit: 1 });
    const ballast = old.hold();
    const next = new ConcurrencyGate({ name: 'new', limit: 1 });
    old.handOver(next);
    expect(next.tryAdmit()).toMatchObject({ ok: false, reason: 'concurrency' });
    expect(next.stats()).toMatchObject({ inFlight: 0, admitted: 0 });
    ballast.release('ignored');
    const caller = next.tryAdmit();
    expect(caller.ok).toBe(true);
    expect(next.stats()).toMatchObject({ inFlight: 1, admitted: 1 });
    if (caller.ok) caller.release();
    expect(next.stats()).toMatchObject({ inFlight: 0, admitted: 1, released: 1 });
  });
});

describe('a held slot in the partitions\' stats (ConcurrencyGate.partitionStats)', () => {
  // Until cutafter22 partitionStats() still counted the ballast in its partition while stats() did not.
  it('in flight per partition is what requests hold, and sums to stats().inFlight', () => {
    const gate = new ConcurrencyGate({ name: 'g', limit: 4, partitions: { live: { share: 0.5 }, batch: { share: 0.5 } }, defaultPartition: 'batch' });
    const ballast = gate.hold();
    const inFlight = (): Record<string, number> => Object.fromEntries(gate.partitionStats().map((p) => [p.name, p.inFlight]));
    expect(inFlight()).toEqual({ live: 0, batch: 0 });
    const live = gate.tryAdmit({ partition: 'live' });
    const batch = gate.tryAdmit();
    expect(inFlight()).toEqual({ live: 1, batch: 1 });
    expect(gate.stats().inFlight).toBe(2);
    // The ballast still counts against the limit: one more caller fits of four, not two.
    const third = gate.tryAdmit({ partition: 'live' });
    expect(third.ok).toBe(true);
    expect(gate.tryAdmit({ partition: 'live' })).toMatchObject({ ok: false, reason: 'concurrency' });
    expect(inFlight()).toEqual({ live: 2, batch: 1 });
    ballast.release('ignored');
    expect(inFlight()).toEqual({ live: 2, batch: 1 });
    for (const a of [live, batch, third]) if (a.ok) a.release();
    expect(inFlight()).toEqual({ live: 0, batch: 0 });
    expect(gate.stats().inFlight).toBe(0);
  });
});
