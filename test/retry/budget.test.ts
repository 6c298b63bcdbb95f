import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, VirtualClock } from '../../src/core/index.js';
import { RetryBudget } from '../../src/retry/index.js';

describe('RetryBudget', () => {
  it('allows ratio × requests + minRetries retries per window', () => {
    const clock = new VirtualClock();
    const budget = new RetryBudget({ clock, ratio: 0.2, minRetries: 3, windowMs: 1_000, buckets: 10 });
    for (let i = 0; i < 20; i++) budget.recordRequest();
    const granted = Array.from({ length: 10 }, () => budget.tryRetry()).filter(Boolean).length;
    expect(granted).toBe(7); // 0.2 × 20 + 3
    expect(budget.stats()).toEqual({ requests: 20, retries: 7, available: 0, refused: 3 });
  });

  it('recovers as the window slides', () => {
    const clock = new VirtualClock();
    const budget = new RetryBudget({ clock, ratio: 0, minRetries: 2, windowMs: 1_000, buckets: 10 });
    expect([budget.tryRetry(), budget.tryRetry(), budget.tryRetry()]).toEqual([true, true, false]);
    clock.advance(900);
    expect(budget.tryRetry()).toBe(false);
    clock.advance(100); // the bucket [0, 100) has left the window
    expect([budget.tryRetry(), budget.tryRetry(), budget.tryRetry()]).toEqual([true, true, false]);
  });

  it('validates options', () => {
    expect(() => new RetryBudget({ ratio: -0.1 })).toThrow(InvalidOptionError);
    expect(() => new RetryBudget({ minRetries: 1.5 })).toThrow('minRetries: expected an integer');
    expect(() => new RetryBudget({ windowMs: Infinity })).toThrow('windowMs: expected a finite number > 0');
    expect(() => new RetryBudget({ buckets: 0 })).toThrow(InvalidOptionError);
  });

  it('property: every granted retry fits ratio × requests + floor of its window, counted independently from the raw log', () => {
    const gapArb = fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 300 }) }, { weight: 1, arbitrary: fc.integer({ min: 300, max: 2_500 }) });
    const opArb = fc.record({ kind: fc.constantFrom<'request' | 'retry'>('request', 'request', 'retry', 'retry', 'retry'), gapMs: gapArb });
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 2, noNaN: true }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 1, max: 10 }),
        fc.array(opArb, { maxLength: 300, size: 'max' }),
        (ratio, floor, buckets, ops) => {
          const windowMs = 1_000;
          const bucketMs = windowMs / buckets;
          const clock = new VirtualClock();
          const budget = new RetryBudget({ clock, ratio, minRetries: floor, windowMs, buckets });
          const requests: number[] = [];
          const retries: number[] = [];
          for (const o of ops) {
            clock.advance(o.gapMs);
            const t = clock.now();
            if (o.kind === 'request') {
              budget.recordRequest();
              requests.push(t);
            } else if (budget.tryRetry()) {
              retries.push(t);
              // The budget's window at t covers at least (t − windowMs + bucketMs, t] and at most (t − windowMs, t]:
              // retries in the smaller interval can never exceed ratio × requests in the larger one + floor.
              const inner = retries.filter((r) => r > t - windowMs + bucketMs).length;
              const outer = requests.filter((r) => r > t - windowMs - 1e-9).length;
              expect(inner).toBeLessThanOrEqual(ratio * outer + floor + 1e-9);
            }
            const s = budget.stats();
            expect(s.retries).toBeLessThanOrEqual(Math.max(ratio * s.requests + floor, s.retries)); // never negative bookkeeping
            expect(s.available).toBeGreaterThanOrEqual(0);
          }
        },
      ),
      { numRuns: 300 },
    );
  }, 120_000); // CPU-bound: 300 runs of up to 300 ops on the virtual clock, counted, not timed
});
