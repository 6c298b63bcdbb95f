// The queued path's shared machinery: one timer per gate for the earliest deadline, and one
// abort listener per distinct signal, whatever the number of waiters behind them.
import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AbortedError, ClosedError, InvalidArgumentError, VirtualClock } from '../../src/core/index.js';
import type { Admission, Permit } from '../../src/core/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import type { DisciplineName } from '../../src/discipline/index.js';

function permit(a: Admission | Promise<Admission>): Permit {
  if (a instanceof Promise || !a.ok) throw new Error('expected an immediate permit');
  return a;
}

const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

/** Settle-count every promise, so a double settlement or a missing one shows. */
function track<T>(ps: Promise<T>[]): { settled: () => number; results: (T | Error)[] } {
  const results: (T | Error)[] = [];
  let settled = 0;
  ps.forEach((p, i) => {
    p.then(
      (v) => {
        settled++;
        results[i] = v;
      },
      (e: Error) => {
        settled++;
        results[i] = e;
      },
    );
  });
  return { settled: () => settled, results };
}

describe('ConcurrencyGate: waiters sharing one AbortSignal', () => {
  it('a signal that is not an AbortSignal is a clear error at admission, and nothing is queued', async () => {
    const gate = new ConcurrencyGate({ limit: 1, maxQueue: 10, clock: new VirtualClock() });
    const first = gate.admit();
    const fake = { aborted: false } as unknown as AbortSignal;
    expect(() => gate.admit({ signal: fake })).toThrow(InvalidArgumentError);
    expect(() => gate.admit({ signal: fake })).toThrow('signal: expected an AbortSignal');
    await expect(gate.acquire({ signal: fake })).rejects.toThrow(InvalidArgumentError);
    expect(gate.stats().queued).toBe(0);
    expect(first).toMatchObject({ ok: true });
  });

  it('holds one listener for the signal, and abort rejects every waiter once with the abort reason', async () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ limit: 1, maxQueue: 1000, clock });
    const held = permit(gate.admit());
    const ac = new AbortController();
    const waits = Array.from({ length: 500 }, () => gate.acquire({ signal: ac.signal }));
    const t = track(waits);
    expect(gate.queued).toBe(500);
    expect(listeners(ac.signal)).toBe(1);
    ac.abort(new Error('batch cancelled'));
    expect(gate.queued).toBe(0);
    expect(listeners(ac.signal)).toBe(0);
    await clock.tick(0);
    expect(t.settled()).toBe(500);
    for (const r of t.results) {
      expect(r).toBeInstanceOf(AbortedError);
      expect(((r as AbortedError).cause as Error).message).toBe('batch cancelled');
    }
    held.release();
    expect(gate.inFlight).toBe(0); // nobody granted after the abort
    expect(gate.stats()).toMatchObject({ admitted: 1, released: 1, queued: 0 });
  });

  it('a waiter that leaves early (granted, expired) leaves the list; the last one out removes the listener', async () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ limit: 1, maxQueue: 10, clock });
    const held = permit(gate.admit());
    const ac = new AbortController();
    const first = gate.admit({ signal: ac.signal }) as Promise<Admission>;
    const timed = gate.admit({ signal: ac.signal, maxWaitMs: 10 }) as Promise<Admission>;
    const last = gate.acquire({ signal: ac.signal });
    const other = new AbortController();
    const unrelated = gate.admit({ signal: other.signal }) as Promise<Admission>;
    expect(listeners(ac.signal)).toBe(1);
    expect(listeners(other.signal)).toBe(1);

    held.release(); // grants `first`
    const granted = await first;
    expect(granted.ok).toBe(true);
    clock.advance(10); // `timed` expires
    await expect(timed).resolves.toMatchObject({ ok: false, reason: 'queue_timeout' });
    expect(gate.queued).toBe(2);
    expect(listeners(ac.signal)).toBe(1);

    ac.abort();
    await expect(last).rejects.toBeInstanceOf(AbortedError);
    expect(listeners(ac.signal)).toBe(0);
    expect(gate.queued).toBe(1); // the other signal's waiter stays
    (granted as Permit).release(); // ... and gets the slot
    await expect(unrelated).resolves.toMatchObject({ ok: true });
    expect(listeners(other.signal)).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a signal used again after its waiters left gets a fresh listener', async () => {
    const gate = new ConcurrencyGate({ limit: 1, maxQueue: 10, clock: new VirtualClock() });
    let held = permit(gate.admit());
    const ac = new AbortController();
    const a = gate.admit({ signal: ac.signal }) as Promise<Admission>;
    held.release();
    held = (await a) as Permit;
    expect(listeners(ac.signal)).toBe(0);
    const b = gate.acquire({ signal: ac.signal });
    expect(listeners(ac.signal)).toBe(1);
    ac.abort();
    await expect(b).rejects.toBeInstanceOf(AbortedError);
    held.release();
    expect(gate.stats()).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('two gates on one signal keep a listener each', async () => {
    const clock = new VirtualClock();
    const g1 = new ConcurrencyGate({ limit: 1, maxQueue: 10, clock });
    const g2 = new ConcurrencyGate({ limit: 1, maxQueue: 10, clock });
    permit(g1.admit());
    permit(g2.admit());
    const ac = new AbortController();
    const waits = [g1.acquire({ signal: ac.signal }), g2.acquire({ signal: ac.signal }), g1.acquire({ signal: ac.signal })];
    expect(listeners(ac.signal)).toBe(2);
    ac.abort();
    for (const w of waits) await expect(w).rejects.toBeInstanceOf(AbortedError);
    expect(listeners(ac.signal)).toBe(0);
    expect(g1.queued + g2.queued).toBe(0);
  });
});

describe('ConcurrencyGate: one timer for the earliest deadline', () => {
  it('deadlines added out of order expire in deadline order, each at its own virtual time', () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ limit: 1, maxQueue: 10, clock });
    permit(gate.admit());
    const seen: [string, number][] = [];
    gate.on((e) => {
      if (e.type === 'reject') seen.push([String(e.key), e.at]);
    });
    for (const [key, wait] of [['a', 50], ['b', 20], ['c', 80], ['d', 20], ['e', 10]] as const) void gate.admit({ key, maxWaitMs: wait });
    void gate.admit({ key: 'f', deadline: 35 });
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt()).toBe(10);
    clock.advance(9);
    expect(seen).toEqual([]);
    clock.advance(100);
    expect(seen).toEqual([
      ['e', 10],
      ['b', 20],
      ['d', 20],
      ['f', 35],
      ['a', 50],
      ['c', 80],
    ]);
    expect(gate.queued).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('an earlier deadline re-arms the timer; the earliest leaving leaves a timer that expires nobody early', () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ limit: 1, maxQueue: 10, clock });
    const held = permit(gate.admit());
    const late = gate.admit({ maxWaitMs: 100 }) as Promise<Admission>;
    expect(clock.nextTimerAt()).toBe(100);
    const ac = new AbortController();
    const early = gate.admit({ maxWaitMs: 30, signal: ac.signal }) as Promise<Admission>;
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt()).toBe(30);
    ac.abort(); // the earliest leaves
    void early.catch(() => {});
    expect(clock.pendingTimers).toBe(1);
    clock.advance(99);
    expect(gate.queued).toBe(1); // `late` is still waiting at 99
    expect(clock.pendingTimers).toBe(1);
    clock.advance(1);
    expect(gate.queued).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    held.release();
    expect(gate.inFlight).toBe(0);
    return expect(late).resolves.toMatchObject({ ok: false, reason: 'queue_timeout' });
  });

  it('the timer is cleared when the queue empties by grants or by aborts, not only by expiry', async () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ limit: 2, maxQueue: 10, maxWaitMs: 1000, clock });
    const a = permit(gate.admit());
    const b = permit(gate.admit());
    const w1 = gate.admit() as Promise<Admission>;
    const w2 = gate.admit({ maxWaitMs: 10 }) as Promise<Admission>;
    expect(clock.pendingTimers).toBe(1);
    a.release();
    b.release();
    const [p1, p2] = (await Promise.all([w1, w2])) as Permit[];
    expect(clock.pendingTimers).toBe(0);

    const ac = new AbortController();
    const w3 = gate.acquire({ signal: ac.signal });
    expect(clock.pendingTimers).toBe(1);
    ac.abort();
    await expect(w3).rejects.toBeInstanceOf(AbortedError);
    expect(clock.pendingTimers).toBe(0);
    p1!.release();
    p2!.release();
    expect(gate.stats()).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('an expiring head still unblocks a smaller waiter behind it at the same time', async () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ limit: 3, maxQueue: 10, clock });
    permit(gate.admit({ cost: 2 }));
    const big = gate.admit({ cost: 3, maxWaitMs: 10 }) as Promise<Admission>;
    const small = gate.admit({ cost: 1, maxWaitMs: 10 }) as Promise<Admission>;
    clock.advance(10);
    await expect(big).resolves.toMatchObject({ ok: false, reason: 'queue_timeout' });
    await expect(small).resolves.toMatchObject({ ok: true });
    expect(clock.pendingTimers).toBe(0);
  });

  it('close settles waiters with shared signals and pending deadlines once, and leaves no timer or listener', async () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ limit: 1, maxQueue: 100, clock });
    const held = permit(gate.admit());
    const ac = new AbortController();
    const waits = Array.from({ length: 20 }, (_, i) => gate.acquire({ signal: ac.signal, ...(i % 2 === 0 ? { maxWaitMs: 10 + i } : {}) }));
    const t = track(waits);
    expect(clock.pendingTimers).toBe(1);
    gate.close();
    expect(clock.pendingTimers).toBe(0);
    expect(listeners(ac.signal)).toBe(0);
    ac.abort();
    await clock.runAll();
    await clock.tick(0);
    expect(t.settled()).toBe(20);
    for (const r of t.results) expect(r).toBeInstanceOf(ClosedError);
    held.release();
    expect(gate.stats()).toMatchObject({ inFlight: 0, queued: 0, admitted: 1, released: 1 });
  });
});

describe('ConcurrencyGate invariants with shared signals', () => {
  type Op = { op: 'admit'; cost: number; signal: number; wait: number | undefined } | { op: 'release'; index: number } | { op: 'abort'; signal: number } | { op: 'advance'; ms: number } | { op: 'close' };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 30, arbitrary: fc.record({ op: fc.constant('admit' as const), cost: fc.integer({ min: 1, max: 2 }), signal: fc.integer({ min: -1, max: 2 }), wait: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }) }) },
    { weight: 20, arbitrary: fc.record({ op: fc.constant('release' as const), index: fc.nat() }) },
    { weight: 6, arbitrary: fc.record({ op: fc.constant('abort' as const), signal: fc.integer({ min: 0, max: 2 }) }) },
    { weight: 10, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 25 }) }) },
    { weight: 1, arbitrary: fc.constant({ op: 'close' as const }) },
  );

  for (const discipline of ['fifo', 'lifo', 'codel', 'priority'] as DisciplineName[]) {
    it(`${discipline}: every waiter settles exactly once; no timer or listener outlives the queue`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { maxLength: 80 }), async (ops) => {
          const clock = new VirtualClock();
          const gate = new ConcurrencyGate({ limit: 2, maxQueue: 8, discipline, clock });
          let controllers = [new AbortController(), new AbortController(), new AbortController()];
          const used: AbortSignal[] = [];
          const permits: Permit[] = [];
          let issued = 0;
          let settled = 0;
          let doubles = 0;
          const once = (): ((v: unknown) => void) => {
            let done = false;
            return (v) => {
              if (done) doubles++;
              done = true;
              settled++;
              if (typeof v === 'object' && v !== null && (v as Admission).ok === true) permits.push(v as Permit);
            };
          };
          for (const o of ops) {
            if (o.op === 'admit') {
              const signal = o.signal < 0 ? undefined : controllers[o.signal]!.signal;
              if (signal !== undefined) used.push(signal);
              issued++;
              const f = once();
              const answer = gate.admit({ cost: o.cost, ...(signal === undefined ? {} : { signal }), ...(o.wait === undefined ? {} : { maxWaitMs: o.wait }) });
              if (answer instanceof Promise) answer.then(f, f);
              else f(answer);
            } else if (o.op === 'release') {
              permits.splice(o.index % Math.max(1, permits.length), 1)[0]?.release();
            } else if (o.op === 'abort') {
              controllers[o.signal]!.abort();
              controllers = controllers.map((c, i) => (i === o.signal ? new AbortController() : c));
            } else if (o.op === 'advance') {
              await clock.tick(o.ms);
            } else {
              gate.close();
            }
            await Promise.resolve();
            expect(gate.inFlight).toBeLessThanOrEqual(gate.limit);
            if (gate.queued === 0) {
              expect(clock.pendingTimers).toBe(0);
              for (const s of used) expect(listeners(s)).toBe(0);
            }
          }
          gate.close();
          await clock.runAll();
          await clock.tick(0);
          for (const p of permits) p.release();
          expect(settled).toBe(issued);
          expect(doubles).toBe(0);
          expect(gate.stats()).toMatchObject({ inFlight: 0, queued: 0 });
          expect(clock.pendingTimers).toBe(0);
          for (const s of used) expect(listeners(s)).toBe(0);
        }),
        { numRuns: 60 },
      );
    });
  }
});
