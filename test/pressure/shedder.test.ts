import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidOptionError, VirtualClock } from '../../src/core/index.js';
import type { Admission, Permit } from '../../src/core/index.js';
import { compose } from '../../src/compose/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { CLASS_PRIORITY, classOfPriority, CRITICALITY_CLASSES, LoadShedder, PressureMonitor, shedProbability } from '../../src/pressure/index.js';
import type { CriticalityClass, PressureLevel, PressureSource } from '../../src/pressure/index.js';
import { gauge } from './helpers.js';

/** A pressure source the test sets directly. */
function stub(level: PressureLevel = 'ok', pressure = 0, retry = 250): PressureSource & { level: PressureLevel; pressure: number } {
  return { level, pressure, retryAfterMs: () => retry };
}

const ask = (s: LoadShedder, cls: CriticalityClass): Admission => s.admit({ priority: CLASS_PRIORITY[cls] });
const outcome = (a: Admission): string => (a.ok ? 'ok' : a.reason);

describe('criticality classes', () => {
  it('map from priority: >= 1 critical-plus, [0, 1) critical (unmarked), [-1, 0) sheddable-plus, < -1 sheddable', () => {
    expect([5, 1, 0.5, 0, -0.5, -1, -1.5, -10].map(classOfPriority)).toEqual([
      'critical-plus',
      'critical-plus',
      'critical',
      'critical',
      'sheddable-plus',
      'sheddable-plus',
      'sheddable',
      'sheddable',
    ]);
    for (const c of CRITICALITY_CLASSES) expect(classOfPriority(CLASS_PRIORITY[c])).toBe(c);
  });
});

describe('LoadShedder: who is shed at which pressure', () => {
  it('ok admits every class; slow sheds sheddable first; reject sheds all but critical-plus', () => {
    const src = stub();
    const s = new LoadShedder({ pressure: src, random: () => 0.5, clock: new VirtualClock() });
    const round = (): string[] => CRITICALITY_CLASSES.map((c) => {
      const a = ask(s, c);
      if (a.ok) a.release();
      return outcome(a);
    });
    expect(round()).toEqual(['ok', 'ok', 'ok', 'ok']);
    src.level = 'slow';
    src.pressure = 0;
    expect(round()).toEqual(['ok', 'ok', 'ok', 'overloaded']);
    src.pressure = 0.6; // sheddable-plus shed with probability 0.6 > random 0.5
    expect(round()).toEqual(['ok', 'ok', 'overloaded', 'overloaded']);
    src.level = 'reject';
    expect(round()).toEqual(['ok', 'overloaded', 'overloaded', 'overloaded']);
    expect(s.classStats().map((c) => [c.class, c.admitted, c.shed])).toEqual([
      ['critical-plus', 4, 0],
      ['critical', 3, 1],
      ['sheddable-plus', 2, 2],
      ['sheddable', 1, 3],
    ]);
    expect(s.stats()).toMatchObject({ kind: 'shedder', admitted: 10, released: 10, rejected: { overloaded: 6 }, inFlight: 0 });
  });

  it('sheds sheddable-plus with probability equal to the pressure at slow (default ramp)', () => {
    let seed = 42;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const p of [0.1, 0.5, 0.9]) {
      const s = new LoadShedder({ pressure: stub('slow', p), random, clock: new VirtualClock() });
      let shed = 0;
      for (let i = 0; i < 4000; i++) {
        const a = ask(s, 'sheddable-plus');
        if (a.ok) a.release();
        else shed++;
      }
      expect(shed / 4000).toBeCloseTo(p, 1);
    }
  });

  it('ramps are configurable: a step turns sheddable-plus shedding deterministic', () => {
    const src = stub('slow', 0.49);
    const s = new LoadShedder({ pressure: src, ramps: { 'sheddable-plus': { from: 0.5, to: 0.5 } }, random: () => 0.999, clock: new VirtualClock() });
    expect(outcome(ask(s, 'sheddable-plus'))).toBe('ok');
    src.pressure = 0.5;
    expect(outcome(ask(s, 'sheddable-plus'))).toBe('overloaded');
  });

  it('shedProbability keeps the class order at every level and pressure', () => {
    const ramps = { sheddable: { from: 0, to: 0.4 }, 'sheddable-plus': { from: 0.2, to: 1 } };
    fc.assert(
      fc.property(fc.constantFrom<PressureLevel>('ok', 'slow', 'reject'), fc.double({ min: 0, max: 1, noNaN: true }), (level, p) => {
        const probs = CRITICALITY_CLASSES.map((c) => shedProbability(c, level, p, ramps));
        for (let i = 1; i < probs.length; i++) expect(probs[i]).toBeGreaterThanOrEqual(probs[i - 1]!);
        expect(probs[0]).toBe(0); // critical-plus: never by pressure
        if (level === 'reject') expect(probs.slice(1)).toEqual([1, 1, 1]);
        if (level !== 'reject') expect(probs[1]).toBe(0); // critical: only at reject
      }),
    );
  });

  it('an overloaded refusal carries the source retry estimate, or the fixed option', () => {
    const src = stub('reject', 1, 730);
    const s = new LoadShedder({ pressure: src, clock: new VirtualClock() });
    expect(ask(s, 'critical')).toMatchObject({ ok: false, reason: 'overloaded', retryAfterMs: 730, gate: 'shedder' });
    const fixed = new LoadShedder({ pressure: src, retryAfterMs: 2000, clock: new VirtualClock(), name: 'edge' });
    expect(ask(fixed, 'critical')).toMatchObject({ reason: 'overloaded', retryAfterMs: 2000, gate: 'edge' });
  });

  it('an explicit classify option overrides the priority mapping', () => {
    const s = new LoadShedder({
      pressure: stub('slow'),
      classify: (ctx) => (ctx.key?.startsWith('batch:') ? 'sheddable' : 'critical'),
      clock: new VirtualClock(),
    });
    expect(outcome(s.admit({ key: 'batch:1', priority: 9 }))).toBe('overloaded');
    expect(outcome(s.admit({ key: 'user:1', priority: -9 }))).toBe('ok');
    const bad = new LoadShedder({ pressure: stub(), classify: () => 'vip' as never, clock: new VirtualClock() });
    expect(() => bad.admit()).toThrow(InvalidArgumentError);
    expect(() => bad.admit()).toThrow(/class: expected one of critical-plus, critical, sheddable-plus, sheddable, received "vip"/);
  });

  it('follows a monitor: shedding starts and stops with the level, without flapping in the band', () => {
    const clock = new VirtualClock();
    const q = gauge('queue', { hysteresis: 0.1 });
    const m = new PressureMonitor({ signals: [q.signal], clock, intervalMs: 100 }).start();
    const s = new LoadShedder({ pressure: m, random: () => 0.5, clock });
    const sheddable = (): string => {
      const a = ask(s, 'sheddable');
      if (a.ok) a.release();
      return outcome(a);
    };
    const seen: string[] = [];
    for (const v of [0.5, 0.75, 0.68, 0.72, 0.65, 0.55, 0.6]) {
      q.value = v;
      clock.advance(100);
      seen.push(sheddable());
    }
    expect(seen).toEqual(['ok', 'overloaded', 'overloaded', 'overloaded', 'overloaded', 'ok', 'ok']);
    m.stop();
  });
});

describe('LoadShedder: capacity by class and the no-starvation guarantee', () => {
  it('refuses the lowest class first as the process fills (default ceilings 0.7 / 0.8 / 0.9)', () => {
    const s = new LoadShedder({ pressure: stub(), limit: 10, clock: new VirtualClock() });
    expect(s.classStats().map((c) => c.slots)).toEqual([10, 9, 8, 7]);
    expect(s.reserve).toBe(1);
    const held: Permit[] = [];
    const take = (c: CriticalityClass): string => {
      const a = ask(s, c);
      if (a.ok) held.push(a);
      return outcome(a);
    };
    for (let i = 0; i < 7; i++) expect(take('sheddable')).toBe('ok');
    expect(take('sheddable')).toBe('concurrency');
    expect(take('sheddable-plus')).toBe('ok');
    expect(take('sheddable-plus')).toBe('concurrency');
    expect(take('critical')).toBe('ok');
    expect(take('critical')).toBe('concurrency');
    expect(take('critical-plus')).toBe('ok'); // the reserved unit
    expect(take('critical-plus')).toBe('concurrency'); // the limit
    expect(s.stats()).toMatchObject({ inFlight: 10, limit: 10, rejected: { concurrency: 4 } });
  });

  it('critical-plus keeps its reserve however hard the other classes push', () => {
    const clock = new VirtualClock();
    const s = new LoadShedder({ pressure: stub(), limit: 20, ceilings: { critical: 0.75 }, clock });
    expect(s.reserve).toBe(5);
    const held: Permit[] = [];
    // The others flood the gate first, and keep asking.
    for (let i = 0; i < 100; i++) {
      for (const c of ['critical', 'sheddable-plus', 'sheddable'] as const) {
        const a = ask(s, c);
        if (a.ok) held.push(a);
      }
    }
    expect(s.inFlight).toBe(15);
    for (let i = 0; i < 5; i++) expect(outcome(ask(s, 'critical-plus'))).toBe('ok');
  });

  it('holds the guarantee for any interleaving of admissions, releases and pressure', () => {
    type Op = { op: 'admit'; cls: CriticalityClass; cost: number } | { op: 'release'; index: number } | { op: 'level'; level: PressureLevel; pressure: number };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ op: fc.constant('admit' as const), cls: fc.constantFrom(...CRITICALITY_CLASSES), cost: fc.integer({ min: 1, max: 2 }) }) },
      { weight: 3, arbitrary: fc.record({ op: fc.constant('release' as const), index: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('level' as const), level: fc.constantFrom<PressureLevel>('ok', 'slow', 'reject'), pressure: fc.double({ min: 0, max: 1, noNaN: true }) }) },
    );
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 12 }), fc.double({ min: 0.05, max: 1, noNaN: true }), fc.array(opArb, { maxLength: 150 }), (limit, critical, ops) => {
        const src = stub();
        const s = new LoadShedder({ pressure: src, limit, ceilings: { critical, 'sheddable-plus': critical, sheddable: critical / 2 }, random: () => 0.5, clock: new VirtualClock() });
        const reserve = s.reserve;
        expect(reserve).toBeGreaterThanOrEqual(1);
        const held: { permit: Permit; cls: CriticalityClass; cost: number }[] = [];
        const inFlight = (top: boolean): number => held.filter((h) => (h.cls === 'critical-plus') === top).reduce((n, h) => n + h.cost, 0);
        for (const o of ops) {
          if (o.op === 'level') {
            src.level = o.level;
            src.pressure = o.pressure;
          } else if (o.op === 'release') {
            const h = held.splice(o.index % Math.max(1, held.length), 1)[0];
            h?.permit.release();
          } else {
            const topBefore = inFlight(true);
            const a = s.admit({ priority: CLASS_PRIORITY[o.cls], cost: o.cost });
            if (a.ok) held.push({ permit: a, cls: o.cls, cost: o.cost });
            if (o.cls === 'critical-plus') {
              expect(a.ok || a.reason === 'concurrency').toBe(true); // never shed by pressure
              if (topBefore + o.cost <= reserve) expect(a.ok).toBe(true); // never starved
            }
          }
          expect(inFlight(false)).toBeLessThanOrEqual(limit - reserve);
          expect(s.inFlight).toBe(inFlight(true) + inFlight(false));
          expect(s.inFlight).toBeLessThanOrEqual(limit);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('in front of a concurrency gate, the top class still gets a slot while sheddable work floods', () => {
    const clock = new VirtualClock();
    const shedder = new LoadShedder({ pressure: stub(), limit: 4, clock });
    const pool = new ConcurrencyGate({ limit: 4, clock });
    const gate = compose(shedder, pool);
    const flood = Array.from({ length: 10 }, () => gate.admit({ priority: CLASS_PRIORITY.sheddable }));
    expect(flood.filter((a) => !(a instanceof Promise) && a.ok)).toHaveLength(2); // floor(4 * 0.7)
    expect(gate.admit({ priority: CLASS_PRIORITY['critical-plus'] })).toMatchObject({ ok: true });
    expect(pool.stats().inFlight).toBe(3);
  });

  it('capacity refusals estimate retryAfterMs from the latency of released permits; a cost above the slots never fits', () => {
    const clock = new VirtualClock();
    const s = new LoadShedder({ pressure: stub(), limit: 2, clock });
    const a = s.admit({ priority: 1 }) as Permit;
    clock.advance(400);
    a.release();
    s.admit({ priority: 1 });
    s.admit({ priority: 1 });
    expect(s.admit({ priority: 1 })).toMatchObject({ reason: 'concurrency', retryAfterMs: 200 });
    expect(s.admit({ priority: 0, cost: 2 })).toMatchObject({ reason: 'concurrency', retryAfterMs: Infinity });
  });

  it('without a limit, never refuses for capacity', () => {
    const s = new LoadShedder({ pressure: stub(), clock: new VirtualClock() });
    for (let i = 0; i < 1000; i++) expect(ask(s, 'sheddable').ok).toBe(true);
    expect(s.stats()).toMatchObject({ inFlight: 1000, limit: Infinity });
    expect(s.reserve).toBe(Infinity);
  });

  it('releasing twice is a no-op; close() refuses with closed; permits in flight stay valid', async () => {
    const s = new LoadShedder({ pressure: stub(), limit: 4, clock: new VirtualClock() });
    const p = ask(s, 'critical') as Permit;
    p.release();
    p.release('failure');
    expect(s.stats()).toMatchObject({ inFlight: 0, released: 1 });
    const q = ask(s, 'critical') as Permit;
    s.close();
    s.close();
    expect(ask(s, 'critical-plus')).toMatchObject({ ok: false, reason: 'closed', retryAfterMs: Infinity });
    await expect(s.acquire()).rejects.toMatchObject({ code: 'SLUICE_ERR_CLOSED' });
    q.release();
    expect(s.inFlight).toBe(0);
  });

  it('acquire() turns an overloaded refusal into a RejectedError with the same fields', async () => {
    const s = new LoadShedder({ pressure: stub('reject', 1, 500), clock: new VirtualClock() });
    await expect(s.acquire({ priority: -2 })).rejects.toMatchObject({ name: 'RejectedError', reason: 'overloaded', retryAfterMs: 500 });
  });
});

describe('LoadShedder options', () => {
  it('a ceiling or ramp left out yields to the ones given, keeping the class order', () => {
    const slots = (ceilings: Record<string, number>): number[] => new LoadShedder({ pressure: stub(), limit: 100, ceilings }).classStats().map((c) => c.slots);
    expect(slots({})).toEqual([100, 90, 80, 70]);
    expect(slots({ critical: 0.5 })).toEqual([100, 50, 50, 50]);
    expect(slots({ sheddable: 0.95 })).toEqual([100, 95, 95, 95]);
    expect(slots({ 'sheddable-plus': 0.75 })).toEqual([100, 90, 75, 70]);
    const shed = (ramps: Record<string, { from: number; to: number }>, cls: CriticalityClass, p: number): number => {
      const s = new LoadShedder({ pressure: stub('slow', p), ramps, random: () => 0.5 });
      return s.admit({ priority: CLASS_PRIORITY[cls] }).ok ? 0 : 1;
    };
    // sheddable given a gentler ramp: sheddable-plus's default (from 0) moves up to stay behind it.
    expect(shed({ sheddable: { from: 0.4, to: 0.6 } }, 'sheddable-plus', 0.45)).toBe(0);
    expect(shed({ sheddable: { from: 0.4, to: 0.6 } }, 'sheddable', 0.55)).toBe(1);
    // sheddable-plus given a step at 0.2: sheddable's default (always) is already in order.
    expect(shed({ 'sheddable-plus': { from: 0.2, to: 0.2 } }, 'sheddable', 0)).toBe(1);
  });

  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['no pressure source', { pressure: undefined }, 'pressure', /expected a pressure source/],
    ['limit 1 leaves no reserve', { limit: 1 }, 'limit', /expected an integer >= 2, received 1/],
    ['fractional limit', { limit: 2.5 }, 'limit', /received 2\.5/],
    ['ceiling above 1', { ceilings: { critical: 1.2 } }, 'ceilings.critical', /in \(0, 1\], received 1\.2/],
    ['ceilings out of order', { ceilings: { sheddable: 0.85, 'sheddable-plus': 0.8 } }, 'ceilings.sheddable', /<= ceilings\.sheddable-plus \(0\.8\).*received 0\.85/],
    ['sheddable-plus above critical', { ceilings: { critical: 0.5, 'sheddable-plus': 0.6 } }, 'ceilings.sheddable-plus', /<= ceilings\.critical \(0\.5\)/],
    ['ramp to < from', { ramps: { 'sheddable-plus': { from: 0.5, to: 0.2 } } }, 'ramps.sheddable-plus.to', /in \[from \(0\.5\), 1\], received 0\.2/],
    ['ramp out of range', { ramps: { sheddable: { from: -0.1, to: 0 } } }, 'ramps.sheddable.from', /in \[0, 1\], received -0\.1/],
    ['ramps out of order', { ramps: { sheddable: { from: 0.3, to: 0.3 }, 'sheddable-plus': { from: 0.2, to: 1 } } }, 'ramps.sheddable.from', /lower classes are shed first/],
    ['random not a function', { random: 0.5 }, 'random', /a function/],
    ['negative retryAfterMs', { retryAfterMs: -1 }, 'retryAfterMs', />= 0, received -1/],
  ];
  for (const [what, opts, option, message] of cases) {
    it(what, () => {
      let err: unknown;
      try {
        new LoadShedder({ pressure: stub(), ...opts } as never);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect((err as InvalidOptionError).option).toBe(option);
      expect((err as Error).message).toMatch(message);
    });
  }
});
