import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import type { Outcome, Permit } from '../../src/core/index.js';
import { anyOf, CircuitBreaker, consecutiveFailures, countWindow, timeWindow } from '../../src/breaker/index.js';
import type { BreakerOptions, BreakerSnapshot, TripRule } from '../../src/breaker/index.js';

type Op =
  | { op: 'admit' }
  | { op: 'release'; index: number; outcome: Outcome }
  | { op: 'advance'; ms: number }
  | { op: 'operator'; what: 'trip' | 'isolate' | 'disable' | 'reset' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 30, arbitrary: fc.constant({ op: 'admit' as const }) },
  { weight: 30, arbitrary: fc.record({ op: fc.constant('release' as const), index: fc.nat(), outcome: fc.constantFrom<Outcome>('success', 'failure', 'failure', 'dropped', 'ignored') }) },
  { weight: 15, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 400 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('operator' as const), what: fc.constantFrom('trip' as const, 'isolate' as const, 'disable' as const, 'reset' as const) }) },
);

const ruleArb: fc.Arbitrary<() => TripRule> = fc.constantFrom(
  () => consecutiveFailures({ threshold: 2 }),
  () => countWindow({ size: 6, minimumCalls: 3, failureRatio: 0.5, slowCallMs: 150, slowCallRatio: 0.8 }),
  () => timeWindow({ windowMs: 1_000, buckets: 5, minimumCalls: 3, failureRatio: 0.4 }),
  () => anyOf(consecutiveFailures({ threshold: 3 }), timeWindow({ windowMs: 500, buckets: 2, minimumCalls: 4, slowCallMs: 100, slowCallRatio: 0.5 })),
);

const configArb: fc.Arbitrary<Config> = fc.record({
  rule: ruleArb,
  probes: fc.integer({ min: 1, max: 4 }),
  successesShort: fc.integer({ min: 0, max: 3 }),
  openMs: fc.integer({ min: 1, max: 500 }),
  openBackoff: fc.constantFrom(1, 1.5, 2),
});

interface Config {
  rule: () => TripRule;
  probes: number;
  successesShort: number;
  openMs: number;
  openBackoff: number;
}

function make(cfg: Config, clock: VirtualClock): CircuitBreaker {
  const options: BreakerOptions = {
    clock,
    rule: cfg.rule(),
    probes: cfg.probes,
    probeSuccesses: Math.max(1, cfg.probes - cfg.successesShort),
    openMs: cfg.openMs,
    openBackoff: cfg.openBackoff,
    ...(cfg.openBackoff > 1 ? { maxOpenMs: cfg.openMs * 3 } : {}),
  };
  return new CircuitBreaker(options);
}

describe('CircuitBreaker invariants under random interleavings', () => {
  it('half-open never admits more than N probes; open admits nothing and says when it will', () => {
    fc.assert(
      fc.property(configArb, fc.array(opArb, { minLength: 10, maxLength: 150, size: 'max' }), (cfg, ops) => {
        const clock = new VirtualClock();
        const b = make(cfg, clock);
        let granted = 0;
        /** Probes of the current half-open period that count (an 'ignored' one gives its slot back). */
        const probes = new Set<Permit>();
        let openUntil = 0;
        const openTimes: number[] = [];
        // (No expect() in here: the breaker shields itself from throwing listeners.)
        b.onStateChange((c) => {
          probes.clear();
          if (c.to === 'open') {
            openTimes.push(c.openUntil! - c.at);
            openUntil = c.openUntil!;
          }
        });
        const held: Permit[] = [];
        for (const o of ops) {
          switch (o.op) {
            case 'admit': {
              const before = b.stats().state; // reading it also performs the lazy open → half-open
              const a = b.admit();
              const now = clock.now();
              if (before === 'open') {
                // Open: always refused until the time it announced.
                expect(a.ok).toBe(false);
                if (!a.ok) expect(a.retryAfterMs).toBe(openUntil - now);
                expect(now).toBeLessThan(openUntil);
              }
              if (before === 'forced-open') expect(a).toMatchObject({ ok: false, retryAfterMs: Infinity });
              if (before === 'closed' || before === 'disabled') expect(a.ok).toBe(true);
              if (a.ok) {
                granted++;
                held.push(a);
                if (before === 'half-open') probes.add(a);
              } else {
                expect(a.reason).toBe('circuit_open');
                expect(a.retryAfterMs).toBeGreaterThan(0);
              }
              expect(probes.size).toBeLessThanOrEqual(cfg.probes);
              break;
            }
            case 'release': {
              if (held.length === 0) break;
              const [p] = held.splice(o.index % held.length, 1);
              if (o.outcome === 'ignored') probes.delete(p!);
              p!.release(o.outcome);
              p!.release('failure'); // a second release is a no-op
              break;
            }
            case 'advance':
              clock.advance(o.ms);
              break;
            case 'operator':
              b[o.what]();
              break;
          }
          const s = b.stats();
          expect(s.inFlight).toBe(held.length);
          expect(s.admitted).toBe(granted);
          expect(s.released).toBe(granted - held.length);
          expect(s.probes.inFlight + s.probes.succeeded + s.probes.failed).toBeLessThanOrEqual(cfg.probes);
          if (s.state !== 'half-open') expect(s.probes).toEqual({ inFlight: 0, succeeded: 0, failed: 0 });
        }
        for (const ms of openTimes) {
          expect(ms).toBeGreaterThanOrEqual(cfg.openMs);
          expect(ms).toBeLessThanOrEqual(cfg.openBackoff > 1 ? cfg.openMs * 3 : cfg.openMs);
        }
      }),
      { numRuns: 400 },
    );
  }, 120_000); // CPU-bound: seconds on a quiet machine, more on a busy one

  it('a breaker restored from an exported state (via JSON) answers exactly like the original', () => {
    fc.assert(
      fc.property(configArb, fc.array(opArb, { maxLength: 60, size: 'max' }), fc.array(opArb, { maxLength: 80, size: 'max' }), (cfg, before, after) => {
        const clock = new VirtualClock();
        const a = make(cfg, clock);
        const held: Permit[] = [];
        const apply = (b: CircuitBreaker, o: Op, hold: Permit[], log: string[]): void => {
          if (o.op === 'admit') {
            const x = b.admit();
            log.push(x.ok ? 'ok' : `no:${x.retryAfterMs}`);
            if (x.ok) hold.push(x);
          } else if (o.op === 'release' && hold.length > 0) {
            hold.splice(o.index % hold.length, 1)[0]!.release(o.outcome);
          } else if (o.op === 'operator') {
            b[o.what]();
          }
        };
        for (const o of before) {
          if (o.op === 'advance') clock.advance(o.ms);
          else apply(a, o, held, []);
        }
        // Snapshot at a quiet moment: permits in flight belong to the process that holds them.
        for (const p of held) p.release('ignored');
        const twin = make(cfg, clock);
        twin.restoreState(JSON.parse(JSON.stringify(a.exportState())) as BreakerSnapshot);
        expect(twin.exportState()).toEqual(a.exportState());
        const heldA: Permit[] = [];
        const heldB: Permit[] = [];
        const logA: string[] = [];
        const logB: string[] = [];
        for (const o of after) {
          if (o.op === 'advance') {
            clock.advance(o.ms);
            continue;
          }
          apply(a, o, heldA, logA);
          apply(twin, o, heldB, logB);
        }
        expect(logB).toEqual(logA);
        expect(twin.stats().state).toBe(a.stats().state);
      }),
      { numRuns: 300 },
    );
  });
});
