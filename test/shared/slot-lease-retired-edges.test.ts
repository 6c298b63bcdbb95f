// A SlotLease's lifecycle edges: retired by a reload, stopped. A retired lease still holds the
// slots its requests run on until they end; meanwhile it must honour the store's asks to give up
// slots its work could give up (slow readers), and never admit a caller still queued in its gate on
// a slot it does not hold. A stopped lease holds nothing, whatever answer arrives after stop().
// Over the in-memory LeaseLedger (what a gateway primary holds for its workers) or a store whose
// answers the test releases; counts only, polls bounded.
import { afterEach, describe, expect, it } from 'vitest';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import type { SlotGate } from '../../src/concurrency/slot-reclaimer.js';
import type { Permit } from '../../src/core/types.js';
import { LeaseLedger } from '../../src/shared/lease-ledger.js';
import type { SharedLimitStore, SlotGrant, SlotUse } from '../../src/shared/limit-store.js';
import { SlotLease } from '../../src/shared/slot-lease.js';
import type { SlotYielder } from '../../src/shared/slot-lease.js';
import { eventually } from './eventually.js';

const NAME = 'policy/concurrency';
const leases: SlotLease[] = [];
afterEach(async () => {
  await Promise.all(leases.splice(0).map((l) => l.stop()));
});

function lease(gate: ConcurrencyGate, store: SharedLimitStore, limit: number, initial: number, yielder?: SlotYielder): SlotLease {
  const l = new SlotLease(gate, store, { name: NAME, limit, initial, batch: 1, tickMs: 2, ...(yielder === undefined ? {} : { yielder }) });
  leases.push(l);
  return l;
}

/** Admitted at once (or fail the test). */
function admitNow(gate: ConcurrencyGate): Permit {
  const p = gate.tryAdmit();
  if (!p.ok) throw new Error(`${gate.name} refused: ${p.reason}`);
  return p;
}

/** Work on `gate` that can give its slot up when asked (the gateway's slow readers). */
class SlowWork implements SlotYielder {
  readonly permits: Permit[] = [];
  cut = 0;
  constructor(readonly gate: SlotGate) {}
  yieldable(gate: SlotGate): { now: number; freeing: number } {
    return { now: gate === this.gate ? this.permits.length : 0, freeing: 0 };
  }
  yieldSlots(gate: SlotGate, n: number): number {
    let done = 0;
    for (; done < n && gate === this.gate && this.permits.length > 0; done++) this.permits.shift()!.release('dropped');
    this.cut += done;
    return done;
  }
}

/** `store`, and the last `use` each of its takeSlots calls told it. */
function spied(store: SharedLimitStore): { store: SharedLimitStore; lastUse: () => SlotUse | undefined } {
  let last: SlotUse | undefined;
  return {
    store: {
      ...store,
      takeSlots: (name, limit, want, inUse, use) => {
        last = use;
        return store.takeSlots(name, limit, want, inUse, use);
      },
    },
    lastUse: () => last,
  };
}

describe('a retired SlotLease', () => {
  it('gives up the slots of its slow work when the store asks, for callers waiting at another holder', async () => {
    const ledger = new LeaseLedger();
    const a = new ConcurrencyGate({ name: 'a', limit: 2, maxQueue: 10 });
    const b = new ConcurrencyGate({ name: 'b', limit: 2, maxQueue: 10 });
    const slow = new SlowWork(a);
    const spy = spied(ledger.holder('a'));
    const la = lease(a, spy.store, 2, 2, slow);
    await la.start();
    expect(la.held).toBe(2);
    // Both of a's slots run work that could give them up, and a has told the store so.
    slow.permits.push(admitNow(a), admitNow(a));
    expect(await eventually(() => spy.lastUse()?.yieldable === 2)).toBe(true);
    // b reports its callers waiting (it has slow work of its own to report, none now).
    const lb = lease(b, ledger.holder('b'), 2, 1, new SlowWork(b));
    await lb.start();
    expect(lb.held).toBe(0);
    // A reload retires a's policy while its work runs; then a caller waits at b.
    la.retire();
    let admitted: Permit | undefined;
    const waiting = Promise.resolve(b.admit({})).then((p) => {
      if (p.ok) admitted = p;
      return p.ok;
    });
    // The store asks a to give one up: a cuts one of its slow responses, and its slot goes to b.
    // Before: the ask was dropped (retired), b's caller waited for as long as a's work ran.
    expect(await eventually(() => admitted !== undefined)).toBe(true);
    expect(slow.cut).toBe(1);
    expect(await waiting).toBe(true);
    admitted!.release();
    for (const p of slow.permits.splice(0)) p.release();
    expect(await eventually(() => la.held === 0 && !la.live)).toBe(true);
  });
});

describe('a retired SlotLease whose store was away (local fallback)', () => {
  it('admits its queued callers on leases again once the store is back, not on the outage limit', async () => {
    const ledger = new LeaseLedger();
    const a = new ConcurrencyGate({ name: 'a', limit: 2, maxQueue: 10 });
    const b = new ConcurrencyGate({ name: 'b', limit: 2, maxQueue: 10 });
    const la = lease(a, ledger.holder('a'), 2, 2);
    await la.start();
    const inA = [admitNow(a), admitNow(a)];
    // b holds nothing (a's work runs on both slots); two callers wait at b.
    const lb = lease(b, ledger.holder('b'), 2, 1);
    await lb.start();
    expect(lb.held).toBe(0);
    const atB: Permit[] = [];
    const waiting = [0, 1].map(() =>
      Promise.resolve(b.admit({})).then((p) => {
        if (p.ok) atB.push(p);
        return p.ok;
      }),
    );
    lb.retire();
    // The store goes away: b follows 'local' (its own share, 1) and admits one caller unleased.
    lb.storeAway({ limit: 1 });
    expect(await eventually(() => atB.length === 1)).toBe(true);
    // Back: b holds no slot, a holds both (its work runs on). b's next caller waits for a lease.
    lb.storeAway(undefined);
    atB[0]!.release();
    await new Promise((r) => setTimeout(r, 20));
    // Before: admitted at once on the outage's limit (1), 3 in flight on a limit of 2.
    const running = (): number => a.stats().inFlight + b.stats().inFlight;
    expect(atB.length, `in flight: ${running()}`).toBe(1);
    expect(running()).toBe(2);
    // a's work ends: its slots go back, and b's caller is served on one.
    for (const p of inA) p.release();
    expect(await eventually(() => atB.length === 2)).toBe(true);
    expect(await Promise.all(waiting)).toEqual([true, true]);
    atB[1]!.release();
    expect(await eventually(() => lb.held === 0 && !lb.live)).toBe(true);
  });
});

/** A store whose slot grants the test answers, one call at a time; what was given back. */
class HeldAnswers implements SharedLimitStore {
  readonly asks: ((g: SlotGrant) => void)[] = [];
  returned = 0;
  calls = 0;
  takeTokens(): never {
    throw new Error('no tokens here');
  }
  returnTokens(): never {
    throw new Error('no tokens here');
  }
  takeSlots(): Promise<SlotGrant> {
    this.calls++;
    return new Promise((resolve) => this.asks.push(resolve));
  }
  returnSlots(_name: string, n: number): Promise<void> {
    this.calls++;
    this.returned += n;
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('a stopped SlotLease', () => {
  it('gives back, before stop() settles, what a grant still on its way brings', async () => {
    const store = new HeldAnswers();
    const gate = new ConcurrencyGate({ name: 'g', limit: 4, maxQueue: 10 });
    const l = lease(gate, store, 4, 1);
    const started = l.start();
    store.asks.shift()!({ granted: 1, fairShare: 4 });
    await started;
    // Its one slot busy and a caller waiting: a tick asks for more.
    const first = admitNow(gate);
    const waiting = Promise.resolve(gate.admit({ maxWaitMs: 60_000 }));
    expect(await eventually(() => store.asks.length === 1)).toBe(true);
    // Stopped with that call unanswered; then its grant arrives.
    let stopped = false;
    const stopping = l.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 10));
    store.asks.shift()!({ granted: 2, fairShare: 4 });
    await stopping;
    // Every slot it was granted went back: the 1 held and the 2 granted after stop().
    // Before: 1 — the late 2 stayed leased (a Redis store renews them for as long as it is open).
    expect(stopped).toBe(true);
    expect(store.returned).toBe(3);
    expect(l.held).toBe(0);
    const calls = store.calls;
    await new Promise((r) => setTimeout(r, 20));
    expect(store.calls).toBe(calls);
    first.release();
    void waiting;
  });

  it('stopped while its first grant is on its way: starts no timer, and gives that grant back', async () => {
    const store = new HeldAnswers();
    const gate = new ConcurrencyGate({ name: 'g', limit: 4 });
    const l = lease(gate, store, 4, 2);
    const started = l.start();
    const stopping = l.stop();
    store.asks.shift()!({ granted: 2, fairShare: 4 });
    await started;
    await stopping;
    // Before: the lease ticked on after stop() (live), holding the 2 slots it never gave back.
    expect(l.live).toBe(false);
    expect(store.returned).toBe(2);
    const calls = store.calls;
    await new Promise((r) => setTimeout(r, 20));
    expect(store.calls).toBe(calls);
  });
});
