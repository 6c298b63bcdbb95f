// SlotLease after its store lost its lease data (Redis restarted empty) or was away: the work
// admitted meanwhile runs on, callers keep queueing, and the gate must not admit on a slot it
// has not leased, nor on one the store counts above the limit. A scripted store stands for
// Redis: `others` is what every other holder holds there (above the limit when they put back
// the leases their running work is on). Counts only; polls are bounded, never timed.
import { afterEach, describe, expect, it } from 'vitest';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import type { Permit } from '../../src/core/types.js';
import type { SharedLimitStore, SlotGrant } from '../../src/shared/limit-store.js';
import { SlotLease } from '../../src/shared/slot-lease.js';

const LIMIT = 2;
const leases: SlotLease[] = [];
afterEach(async () => {
  await Promise.all(leases.splice(0).map((l) => l.stop()));
});

/** A store that grants what fits beside `others`, leases work running on none (`inUse` above held), and says what it counts. */
class ScriptedStore implements SharedLimitStore {
  others = 0;
  held = 0;
  readonly returned: number[] = [];
  readonly inUse: number[] = [];
  calls = 0;

  takeSlots(_name: string, limit: number, want: number, inUse = 0): Promise<SlotGrant> {
    this.calls++;
    this.inUse.push(inUse);
    const ask = want + Math.max(0, inUse - this.held);
    const granted = Math.max(0, Math.min(ask, limit - this.held - this.others));
    this.held += granted;
    return Promise.resolve({ granted, fairShare: limit, held: this.held, used: this.held + this.others });
  }

  returnSlots(_name: string, n: number): Promise<void> {
    this.returned.push(n);
    this.held -= n;
    return Promise.resolve();
  }

  takeTokens(): never {
    throw new Error('not used');
  }

  returnTokens(): never {
    throw new Error('not used');
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

async function eventually(cond: () => boolean, tries = 1_000): Promise<boolean> {
  for (let i = 0; i < tries && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  return cond();
}

async function leased(store: ScriptedStore, gate: ConcurrencyGate): Promise<SlotLease> {
  const lease = new SlotLease(gate, store, { name: 'pool', limit: LIMIT, initial: LIMIT, batch: LIMIT, tickMs: 2 });
  leases.push(lease);
  await lease.start();
  return lease;
}

function run(gate: ConcurrencyGate): Permit {
  const a = gate.tryAdmit();
  if (!a.ok) throw new Error(`refused: ${a.reason}`);
  return a;
}

describe('SlotLease when its store counts more leases than the limit', () => {
  it('a slot its work frees goes back to the store, not to the caller waiting here; admitted again once the store counts within the limit', async () => {
    const store = new ScriptedStore();
    const gate = new ConcurrencyGate({ name: 'g', limit: LIMIT, maxQueue: 10 });
    const lease = await leased(store, gate);
    expect(lease.held).toBe(LIMIT);
    const running = [run(gate), run(gate)];
    let admitted = false;
    const waiter = Promise.resolve(gate.admit({})).then((a) => {
      admitted = true;
      return a;
    });
    // Another holder put back a lease its running work is on: 3 counted for a limit of 2.
    store.others = 1;
    const seen = store.calls;
    expect(await eventually(() => store.calls > seen + 1)).toBe(true);
    expect(store.inUse.at(-1)).toBe(2);
    running[0]!.release();
    // Before, the waiter took the freed slot at once: 3 in flight across the holders.
    expect([gate.inFlight, gate.queued]).toEqual([1, 1]);
    expect(await eventually(() => store.returned.length > 0)).toBe(true);
    expect(store.returned).toEqual([1]);
    expect(lease.held).toBe(1);
    expect([gate.inFlight, gate.queued, admitted]).toEqual([1, 1, false]);
    // The other holder's work ended: the limit has room again, and the waiter is served on a leased slot.
    store.others = 0;
    expect(await eventually(() => admitted)).toBe(true);
    expect(lease.held).toBe(LIMIT);
    const w = await waiter;
    if (w.ok) w.release();
    running[1]!.release();
  });

  it('back from an outage with work admitted on no lease and callers queued: none of them is admitted until a slot is leased (the ballast is taken past the queue)', async () => {
    const store = new ScriptedStore();
    const gate = new ConcurrencyGate({ name: 'g', limit: LIMIT, maxQueue: 10 });
    store.others = LIMIT; // the others hold the whole limit
    const lease = await leased(store, gate);
    expect(lease.held).toBe(0);
    lease.storeAway({ limit: LIMIT }); // 'local' or 'open': admitted leased or not
    const running = [run(gate), run(gate)];
    let admitted = 0;
    const waiters = [0, 1].map(() => Promise.resolve(gate.admit({})).then((a) => (admitted++, a)));
    lease.storeAway(undefined);
    // The work running asks for leases (inUse), but the others hold every slot.
    const seen = store.calls;
    expect(await eventually(() => store.calls > seen)).toBe(true);
    expect(store.inUse.at(-1)).toBe(2);
    running[0]!.release();
    running[1]!.release();
    // Before, the gate's one slot went to a waiter as the work ended: its ballast could not be taken past the queue.
    expect([gate.inFlight, gate.queued]).toEqual([1, 2]); // the ballast; both wait
    await eventually(() => store.calls > seen + 5);
    expect(admitted).toBe(0);
    expect(lease.held).toBe(0);
    store.others = 0;
    expect(await eventually(() => admitted === 2)).toBe(true);
    for (const w of await Promise.all(waiters)) if (w.ok) w.release();
  });
});
