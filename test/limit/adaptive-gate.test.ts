import { describe, expect, it } from 'vitest';
import { flushMicrotasks, InvalidOptionError, VirtualClock } from '../../src/core/index.js';
import type { Admission, GateEvent, Permit } from '../../src/core/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import type { ConcurrencyOptions } from '../../src/concurrency/index.js';
import type { DisciplineOption } from '../../src/discipline/index.js';
import { HttpPermit } from '../../src/http/http-permit.js';
import { AimdLimit, VegasLimit, WindowedLimit } from '../../src/limit/index.js';
import type { LimitAlgorithm, LimitSample } from '../../src/limit/index.js';

/** Records samples; answers with the limits it is told to. */
class Scripted implements LimitAlgorithm<null> {
  readonly name = 'scripted';
  readonly minLimit = 1;
  readonly maxLimit = 100;
  seen: LimitSample[] = [];
  constructor(
    public limit: number,
    readonly next: number[] = [],
  ) {}
  onSample(s: LimitSample): number {
    this.seen.push(s);
    this.limit = this.next.shift() ?? this.limit;
    return this.limit;
  }
  state(): null {
    return null;
  }
  restore(): void {}
}

function permit(a: Admission | Promise<Admission>): Permit {
  if (a instanceof Promise || !a.ok) throw new Error('expected an immediate permit');
  return a;
}

describe('ConcurrencyGate with a limit algorithm', () => {
  it('samples success and failure, marks dropped as a drop, skips ignored; in-flight is taken at grant', () => {
    const clock = new VirtualClock(1000);
    const algo = new Scripted(10);
    const gate = new ConcurrencyGate({ algorithm: algo, clock });
    const [a, b, c, d] = [1, 2, 3, 4].map(() => permit(gate.admit()));
    clock.advance(5);
    a!.release('success');
    clock.advance(5);
    b!.release('failure');
    c!.release('dropped');
    d!.release('ignored');
    expect(algo.seen).toEqual([
      { startTime: 1000, rttMs: 5, inFlight: 1, dropped: false },
      { startTime: 1000, rttMs: 10, inFlight: 2, dropped: false },
      { startTime: 1000, rttMs: 10, inFlight: 3, dropped: true },
    ]);
  });

  it("samples the owner's own measure of the dependency's time when it releases with one (<= 0: no sample); the latency estimate keeps grant to release", () => {
    const clock = new VirtualClock(1000);
    const algo = new Scripted(10);
    const gate = new ConcurrencyGate({ algorithm: algo, clock });
    const [a, b, c, d] = [1, 2, 3, 4].map(() => permit(gate.admit()));
    clock.advance(40);
    a!.release('success', 12);
    b!.release('failure', 0);
    c!.release('success', -3);
    d!.release('dropped');
    expect(algo.seen).toEqual([
      { startTime: 1000, rttMs: 12, inFlight: 1, dropped: false },
      { startTime: 1000, rttMs: 40, inFlight: 4, dropped: true },
    ]);
    expect(gate.serviceMs).toBe(40);
  });

  it("a non-finite rttMs releases the permit with no sample, then throws naming rttMs (an Infinity would drive the limit)", () => {
    const clock = new VirtualClock(1000);
    const algo = new Scripted(10);
    const gate = new ConcurrencyGate({ algorithm: algo, clock });
    const bad: unknown[] = [Infinity, -Infinity, Number.NaN, '12'];
    const permits = bad.map(() => permit(gate.admit()));
    clock.advance(40);
    bad.forEach((rtt, i) => {
      expect(() => permits[i]!.release('success', rtt as number)).toThrow(/^rttMs: expected a finite number of ms \(<= 0: no sample\), received /);
      expect(permits[i]!.released).toBe(true);
    });
    expect(gate.inFlight).toBe(0);
    expect(algo.seen).toEqual([]);
    // A second release of a released permit is still a no-op, whatever it is given.
    expect(() => permits[0]!.release('success', Infinity)).not.toThrow();
  });

  it('an HTTP permit with a non-finite rttMs gives back every permit it holds and runs its after-release before it throws', () => {
    const clock = new VirtualClock(1000);
    const algo = new Scripted(10);
    const gates = [new ConcurrencyGate({ algorithm: algo, clock }), new ConcurrencyGate({ algorithm: algo, clock })];
    let after = 0;
    const p = new HttpPermit('g', gates.map((g) => permit(g.admit())), [], () => 'success');
    p.afterRelease = () => after++;
    expect(() => p.finish(200, Infinity)).toThrow(/^rttMs: expected a finite number of ms/);
    expect(gates.map((g) => g.inFlight)).toEqual([0, 0]);
    expect(after).toBe(1);
    expect(algo.seen).toEqual([]);
  });

  it("an HTTP permit's finish passes the owner's measure on, with the time the owner added on purpose (the gateway's injected delay)", () => {
    const clock = new VirtualClock(1000);
    const algo = new Scripted(10);
    const gate = new ConcurrencyGate({ algorithm: algo, clock });
    const [a, b] = [1, 2].map(() => new HttpPermit('g', [permit(gate.admit())], [], () => 'success'));
    a!.addedMs = 200;
    clock.advance(300);
    a!.finish(200, 30);
    b!.finish(200);
    expect(algo.seen.map((s) => s.rttMs)).toEqual([230, 300]);
  });

  it('starts at the algorithm\'s limit and enforces Math.round of each new one', () => {
    const clock = new VirtualClock();
    const algo = new Scripted(2.4, [2.6, 1.4]);
    const gate = new ConcurrencyGate({ algorithm: algo, clock });
    expect(gate.limit).toBe(2);
    permit(gate.admit()).release();
    expect(gate.limit).toBe(3);
    permit(gate.admit()).release();
    expect(gate.stats().limit).toBe(1);
  });

  it('rejects a limit given next to an algorithm: the two would contradict', () => {
    const options = { limit: 5, algorithm: new AimdLimit() } as unknown as ConcurrencyOptions;
    expect(() => new ConcurrencyGate(options)).toThrow(InvalidOptionError);
    expect(() => new ConcurrencyGate(options)).toThrow(/limit: expected no limit when an algorithm sets it/);
  });

  it('a raised limit serves waiters at once, after the release event', async () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ algorithm: new Scripted(1, [3]), maxQueue: 5, clock });
    const events: string[] = [];
    gate.on((e: GateEvent) => events.push(e.type));
    const first = permit(gate.admit());
    const waiters = [gate.acquire(), gate.acquire()];
    expect(gate.queued).toBe(2);
    first.release();
    const granted = await Promise.all(waiters);
    expect(gate.limit).toBe(3);
    expect(gate.inFlight).toBe(2);
    expect(events).toEqual(['admit', 'release', 'admit', 'admit']);
    for (const p of granted) p.release();
  });

  it('with partitions: shrinking the limit shrinks every guarantee, and LIFO still serves the newest waiter', async () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({
      algorithm: new AimdLimit({ initialLimit: 10, minLimit: 2 }),
      partitions: { live: { share: 0.6 }, batch: { share: 0.4 } },
      discipline: 'lifo',
      maxQueue: 10,
      clock,
    });
    expect(gate.partitionStats().map((p) => p.guarantee)).toEqual([6, 4]);
    const held = Array.from({ length: 10 }, (_, i) => permit(gate.admit({ partition: i < 6 ? 'live' : 'batch' })));
    const order: number[] = [];
    const waiters = [1, 2, 3].map((i) => gate.acquire({ partition: 'live' }).then((p) => (order.push(i), p)));
    // Three timeouts: AIMD backs off 10 → 9 → 8 → 7; guarantees follow ⌊limit · share⌋.
    for (let i = 0; i < 3; i++) held.pop()!.release('dropped');
    expect(gate.limit).toBe(7);
    expect(gate.partitionStats().map((p) => p.guarantee)).toEqual([4, 2]);
    expect(gate.inFlight).toBe(7);
    expect(order).toEqual([]); // 7 in flight at a limit of 7: nobody is served
    // Successes at full use grow the limit again (+1 each); each new slot goes to the newest live waiter.
    held.pop()!.release('success'); // 6 in flight → limit 8: two slots
    await flushMicrotasks();
    expect(gate.limit).toBe(8);
    expect(order).toEqual([3, 2]);
    held.pop()!.release('success');
    await flushMicrotasks();
    expect(order).toEqual([3, 2, 1]);
    for (const p of [...held, ...(await Promise.all(waiters))]) p.release('ignored');
    expect(gate.stats()).toMatchObject({ inFlight: 0, queued: 0 });
  });
});

/**
 * The typical server setup, end to end on the virtual clock: a handler whose latency grows past
 * a knee of C concurrent requests (latency = L · max(1, inFlight / C), fixed at start), offered 3x
 * its capacity, behind an adaptive limit with a LIFO or CoDel backlog.
 */
async function serve(discipline: DisciplineOption, algorithm: LimitAlgorithm): Promise<{ gate: ConcurrencyGate; waits: number[]; over: number; served: number }> {
  const C = 20;
  const L = 10;
  const clock = new VirtualClock();
  const gate = new ConcurrencyGate({ algorithm, maxQueue: 50, maxWaitMs: 200, discipline, clock });
  const waits: number[] = [];
  let over = 0;
  let served = 0;
  const start = (p: Permit, queuedAt: number): void => {
    if (gate.inFlight > gate.limit) over++;
    waits.push(clock.now() - queuedAt);
    const latency = L * Math.max(1, gate.inFlight / C);
    clock.setTimer(() => {
      served++;
      p.release();
    }, latency);
  };
  for (let ms = 0; ms < 3000; ms++) {
    clock.advance(1);
    for (let i = 0; i < 6; i++) {
      const now = clock.now();
      const a = gate.admit();
      if (a instanceof Promise) {
        a.then((r) => r.ok && start(r, now), () => undefined);
      } else if (a.ok) {
        start(a, now);
      }
    }
    await flushMicrotasks();
  }
  return { gate, waits, over, served };
}

describe('adaptive limit with a backlog (the typical server setup)', () => {
  for (const discipline of ['lifo', { type: 'codel', targetMs: 5, intervalMs: 50 }] as const) {
    const label = typeof discipline === 'string' ? discipline : discipline.type;
    it(`${label}: the limit settles near the knee, the server stays at capacity, and grants never exceed the limit`, async () => {
      const algorithm = new WindowedLimit(new VegasLimit({ random: () => 0.5 }), { minWindowMs: 50 });
      const { gate, waits, over, served } = await serve(discipline, algorithm);
      expect(over).toBe(0);
      // Knee 20: Vegas keeps a queue of alpha..beta (3..6) on top of it.
      expect(gate.limit).toBeGreaterThanOrEqual(20);
      expect(gate.limit).toBeLessThanOrEqual(30);
      // Capacity is C / L = 2 per ms: nearly 6000 in 3 s once the limit has grown from 20.
      expect(served).toBeGreaterThan(0.9 * 2 * 3000);
      const stats = gate.stats();
      expect(stats.rejected.queue_full + stats.rejected.queue_timeout + stats.rejected.shed).toBeGreaterThan(0);
      const sorted = waits.sort((a, b) => a - b);
      const p50 = sorted[Math.floor(sorted.length / 2)]!;
      const p99 = sorted[Math.floor(sorted.length * 0.99)]!;
      // The wait in the gate never feeds the limit (RTT runs from grant), so it stays bounded by the
      // backlog: 50 waiters drain in about 50 / 2 per ms = 25 ms, far inside maxWaitMs.
      expect(p99).toBeLessThan(50);
      // LIFO serves the newest caller first: most wait about nothing.
      if (label === 'lifo') expect(p50).toBeLessThan(5);
      // CoDel sheds from the standing queue it sees.
      if (label === 'codel') expect(stats.rejected.shed).toBeGreaterThan(0);
    });
  }
});
