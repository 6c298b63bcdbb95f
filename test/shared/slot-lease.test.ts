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
      return held.length === LIMIT;
    });
    expect(grown).toBe(true);
    // The idle holder, without demand and with nothing in flight, gave back even its last slot;
    // the ledger never lends more than the limit.
    expect(b.held).toBe(0);
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
    // a's demand ends: b gets a's slots, the last one too once a has been idle a while.
    stopA = true;
    await Promise.all(aCallers);
    expect(await eventually(() => lb.held === LIMIT)).toBe(true);
    expect(la.held + lb.held).toBeLessThanOrEqual(LIMIT);
    stopB = true;
    await Promise.all(bCallers);
  });
});

describe('SlotLease with a limit smaller than the number of holders', () => {
  it('limit 1 on two holders: callers that alternate between them are all admitted (the idle one gives its last slot back)', async () => {
    const ledger = new LeaseLedger();
    const lease = async (id: string, gate: ConcurrencyGate): Promise<SlotLease> => {
      const l = new SlotLease(gate, ledger.holder(id), { name: 'one', limit: 1, initial: 1, batch: 1, tickMs: 2 });
      leases.push(l);
      await l.start();
      return l;
    };
    const a = new ConcurrencyGate({ name: 'a', limit: 1, maxQueue: 10 });
    const b = new ConcurrencyGate({ name: 'b', limit: 1, maxQueue: 10 });
    const la = await lease('a', a);
    const lb = await lease('b', b);
    // The first holder took the one slot; the second, which asked for it at its start and got
    // none, holds its gate's ballast — and the first, told so (LeaseLedger.onWanted) with nothing
    // in flight, may already have given it back: one slot at most between them.
    expect(lb.held).toBe(0);
    expect(la.held + lb.held).toBeLessThanOrEqual(1);
    const outcomes: string[] = [];
    for (let i = 0; i < 6; i++) {
      const gate = i % 2 === 0 ? b : a;
      // Before: a kept its one idle slot for good (a floor of 1), and b's caller waited until its budget ran out.
      const p = await gate.admit({ maxWaitMs: 10_000 });
      outcomes.push(p.ok ? 'admitted' : p.reason);
      expect(la.held + lb.held).toBeLessThanOrEqual(1);
      if (p.ok) p.release();
    }
    expect(outcomes).toEqual(Array(6).fill('admitted'));
  });
});

describe('SlotLease when its store is away', () => {
  it('a store that fails at start is not fatal: the ballast refuses until a grant; storeAway refuses store_unavailable and asks nothing until back', async () => {
    const ledger = new LeaseLedger();
    const real = ledger.holder('a');
    let up = false;
    let calls = 0;
    const store = {
      ...real,
      takeSlots: (name: string, limit: number, want: number) => {
        calls++;
        return up ? real.takeSlots(name, limit, want) : Promise.reject(new Error('store away'));
      },
    };
    const gate = new ConcurrencyGate({ name: 'g', limit: 4 });
    const errors: unknown[] = [];
    const l = new SlotLease(gate, store, { name: 'pool', limit: 4, initial: 4, batch: 4, tickMs: 2, onError: (e) => errors.push(e) });
    leases.push(l);
    await l.start(); // resolves: the gateway starts in its failure mode
    expect(errors).toHaveLength(1);
    expect(l.held).toBe(0);
    const refused = gate.tryAdmit();
    expect(refused.ok ? 'admitted' : refused.reason).toBe('concurrency'); // the ballast: nothing admitted unleased
    l.storeAway({ refuseMs: 500 });
    const away = gate.tryAdmit();
    expect(away.ok ? undefined : [away.reason, away.retryAfterMs]).toEqual(['store_unavailable', 500]);
    const before = calls;
    await new Promise((r) => setTimeout(r, 30));
    expect(calls).toBe(before); // no call while away
    up = true;
    l.storeAway(undefined);
    const held: Permit[] = [];
    expect(await eventually(() => take(gate, held))).toBe(true);
    expect(l.held).toBeGreaterThanOrEqual(1);
    for (const p of held) p.release();
  });
});

describe('SlotLease when its store is away, in open or local mode', () => {
  it('the gate admits up to the mode’s limit, leased or not; back, it admits on leases again', async () => {
    const ledger = new LeaseLedger();
    const real = ledger.holder('a');
    let up = false;
    const store = { ...real, takeSlots: (name: string, limit: number, want: number) => (up ? real.takeSlots(name, limit, want) : Promise.reject(new Error('store away'))) };
    const gate = new ConcurrencyGate({ name: 'g', limit: 4 });
    const l = new SlotLease(gate, store, { name: 'pool', limit: 4, initial: 4, batch: 4, tickMs: 2 });
    leases.push(l);
    await l.start();
    l.storeAway({ limit: 2 }); // 'local': this process's share
    const held: Permit[] = [];
    expect([take(gate, held), take(gate, held), take(gate, held)]).toEqual([true, true, false]);
    for (const p of held.splice(0)) p.release();
    up = true;
    l.storeAway(undefined);
    // Nothing leased yet: the ballast first, then slots for the callers it turns away.
    expect(take(gate, held)).toBe(false);
    expect(await eventually(() => take(gate, held))).toBe(true);
    expect(l.held).toBeGreaterThanOrEqual(1);
    expect(gate.inFlight - held.length).toBe(0); // no ballast left in flight beside the callers
    for (const p of held) p.release();
  });
});

describe('LeaseLedger.slots()', () => {
  it('lists a pool named __proto__ (a policy may be) as its own key', () => {
    const ledger = new LeaseLedger();
    ledger.takeSlots('worker-0-1', '__proto__', 3, 2);
    ledger.takeSlots('worker-0-1', 'api', 3, 1);
    const slots = ledger.slots();
    expect(Object.keys(slots).sort()).toEqual(['__proto__', 'api']);
    expect(JSON.parse(JSON.stringify(slots))).toEqual(JSON.parse('{"__proto__":{"limit":3,"held":{"worker-0-1":2},"wanted":0},"api":{"limit":3,"held":{"worker-0-1":1},"wanted":0}}'));
  });
});

describe('SlotLease above its fair share while the other wants slots too', () => {
  it('comes down to its share though its own callers always wait (slots it frees go back, not to its queue)', async () => {
    const ledger = new LeaseLedger();
    const gates = ['a', 'b'].map((name) => new ConcurrencyGate({ name, limit: LIMIT, maxQueue: 100 }));
    // An uneven split, as after an outage: a holds 7, b 3.
    const [la, lb] = [7, 3].map((initial, i) => new SlotLease(gates[i]!, ledger.holder(String(i)), { name: 'pool', limit: LIMIT, initial, batch: 2, tickMs: 2 }));
    leases.push(la!, lb!);
    await la!.start();
    await lb!.start();
    expect([la!.held, lb!.held]).toEqual([7, 3]);
    let stop = false;
    let peak = 0;
    const callers = gates.flatMap((gate) =>
      Array.from({ length: LIMIT + 2 }, async () => {
        while (!stop) {
          const p = await gate.admit({});
          if (!p.ok) continue;
          peak = Math.max(peak, gates[0]!.inFlight + gates[1]!.inFlight);
          await new Promise((r) => setImmediate(r));
          p.release();
        }
      }),
    );
    // Before: a's freed slots went to its own waiters at once, never idle at a tick: 7 and 3 for as long as the load lasted.
    const even = await eventually(() => la!.held === LIMIT / 2 && lb!.held === LIMIT / 2);
    stop = true;
    await Promise.all(callers);
    expect({ a: la!.held, b: lb!.held, even }).toEqual({ a: LIMIT / 2, b: LIMIT / 2, even: true });
    expect(peak).toBeLessThanOrEqual(LIMIT);
  });
});

describe('SlotLease at its fair share while every holder wants slots', () => {
  it('the limit is used whole: a share that does not divide it leaves no slot idle (3 holders, 10 slots)', async () => {
    const ledger = new LeaseLedger();
    const gates = ['a', 'b', 'c'].map((name) => new ConcurrencyGate({ name, limit: LIMIT, maxQueue: 100 }));
    const ls = [4, 3, 3].map((initial, i) => new SlotLease(gates[i]!, ledger.holder(String(i)), { name: 'pool', limit: LIMIT, initial, batch: 2, tickMs: 2 }));
    leases.push(...ls);
    for (const l of ls) await l.start();
    let stop = false;
    let peak = 0;
    let settled = false;
    const callers = gates.flatMap((gate) =>
      Array.from({ length: LIMIT + 2 }, async () => {
        while (!stop) {
          const p = await gate.admit({});
          if (!p.ok) continue;
          const inFlight = gates.reduce((n, g) => n + g.inFlight, 0);
          if (settled) peak = Math.max(peak, inFlight);
          await new Promise((r) => setImmediate(r));
          p.release();
        }
      }),
    );
    // Every holder has learnt that the others want slots (a share of 3) before the peak counts.
    settled = await eventually(() => ls.every((l) => l.fairShare === 3));
    // Before: each gate's limit was capped at the share, 3 + 3 + 3: one slot of the ten never served anyone.
    const whole = await eventually(() => peak === LIMIT, 300);
    stop = true;
    await Promise.all(callers);
    expect({ settled, whole, peak }).toEqual({ settled: true, whole: true, peak: LIMIT });
  });
});
