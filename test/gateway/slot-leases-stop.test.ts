// SlotLeases.stop() (the gateway stopping) stops every lease: the live ones and those a reload
// retired that still hold slots for their work. Before, only the live ones: a retired lease kept
// ticking after stop, holding its slots and calling a store the gateway had closed. Over the
// in-memory LeaseLedger (a primary's); a policy stands in for the table's (its gate and config).
import { describe, expect, it } from 'vitest';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import type { PolicyInstance } from '../../src/gateway/policy-instance.js';
import type { RouteTable } from '../../src/gateway/route-table.js';
import { SlotLeases } from '../../src/gateway/slot-leases.js';
import { LeaseLedger } from '../../src/shared/lease-ledger.js';
import type { SharedLimitStore } from '../../src/shared/limit-store.js';
import { eventually } from '../shared/eventually.js';

function policy(name: string, gate: ConcurrencyGate, limit: number): PolicyInstance {
  return { key: name, name, admission: { concurrency: gate }, config: { concurrency: { limit } }, gates: () => [gate] } as unknown as PolicyInstance;
}

function table(...policies: PolicyInstance[]): RouteTable {
  return { policies: new Map(policies.map((p) => [p.key, p])) } as unknown as RouteTable;
}

/** `store` counting the calls made on it. */
function counted(store: SharedLimitStore): { store: SharedLimitStore; calls: () => number } {
  let n = 0;
  const count =
    <A extends unknown[], R>(f: (...a: A) => R) =>
    (...a: A): R => {
      n++;
      return f(...a);
    };
  return {
    store: { ...store, takeSlots: count(store.takeSlots), returnSlots: count(store.returnSlots), releaseSlots: count(store.releaseSlots!) },
    calls: () => n,
  };
}

describe('SlotLeases.stop()', () => {
  it('stops the leases a reload retired too: every slot back, no call after it settled', async () => {
    const ledger = new LeaseLedger();
    const spy = counted(ledger.holder('w'));
    const leases = new SlotLeases({ store: spy.store, workers: 1, onError: () => undefined });
    const gate = new ConcurrencyGate({ name: 'p', limit: 2, maxQueue: 10 });
    const p = policy('p', gate, 2);
    await leases.attach(table(p));
    expect(ledger.slots()['p/concurrency']?.held).toEqual({ w: 2 });
    // A request runs on it when a reload removes the policy: its lease retires, holding a slot for it.
    const running = gate.tryAdmit();
    expect(running.ok).toBe(true);
    leases.retire([p]);
    expect(await eventually(() => ledger.slots()['p/concurrency']?.held['w'] === 1)).toBe(true);
    // The gateway stops (its drain cut that request; here it has not ended yet).
    await leases.stop(table());
    // Before: the retired lease went on ticking, its slot leased (1).
    expect(ledger.slots()['p/concurrency']?.held['w'] ?? 0).toBe(0);
    const calls = spy.calls();
    if (running.ok) running.release();
    await new Promise((r) => setTimeout(r, 30));
    expect(spy.calls()).toBe(calls);
  });
});
