import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import type { Admission, Permit } from '../../src/core/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import type { DisciplineName } from '../../src/discipline/index.js';
import { AimdLimit, Gradient2Limit, VegasLimit, WindowedLimit } from '../../src/limit/index.js';
import type { LimitAlgorithm } from '../../src/limit/index.js';

type Op =
  | { op: 'admit'; cost: number; partition: 'a' | 'b'; wait: number | undefined }
  | { op: 'release'; index: number; outcome: 'success' | 'failure' | 'dropped' | 'ignored' }
  | { op: 'advance'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('admit' as const), cost: fc.integer({ min: 1, max: 2 }), partition: fc.constantFrom('a' as const, 'b' as const), wait: fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('release' as const), index: fc.nat(), outcome: fc.constantFrom('success' as const, 'failure' as const, 'dropped' as const, 'ignored' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 30 }) }) },
);

const algorithms: Record<string, () => LimitAlgorithm> = {
  aimd: () => new AimdLimit({ initialLimit: 4, maxLimit: 8, timeoutMs: 20 }),
  vegas: () => new VegasLimit({ initialLimit: 4, maxLimit: 8, random: () => 0.3 }),
  'windowed(gradient2)': () => new WindowedLimit(new Gradient2Limit({ initialLimit: 4, maxLimit: 8, queueSize: 2 }), { minSamples: 2, minWindowMs: 5 }),
};

describe('ConcurrencyGate driven by an algorithm, under random interleavings', () => {
  for (const [name, make] of Object.entries(algorithms)) {
    for (const discipline of ['lifo', 'codel', 'priority'] as DisciplineName[]) {
      it(`${name}, ${discipline}, partitioned: grants never exceed the limit, the gate enforces the algorithm's rounded limit, nothing leaks`, async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(opArb, { maxLength: 80 }), async (ops) => {
            const clock = new VirtualClock();
            const algorithm = make();
            const gate = new ConcurrencyGate({ algorithm, maxQueue: 6, discipline, clock, partitions: { a: { share: 0.6 }, b: { share: 0.4 } } });
            let violations = 0;
            gate.on((e) => {
              if (e.type === 'admit' && gate.inFlight > gate.limit) violations++;
            });
            const permits: Permit[] = [];
            let issued = 0;
            let settled = 0;
            let granted = 0;
            const onAnswer = (a: Admission): void => {
              settled++;
              if (a.ok) {
                granted++;
                permits.push(a);
              }
            };
            for (const o of ops) {
              if (o.op === 'admit') {
                issued++;
                const answer = gate.admit({ cost: o.cost, partition: o.partition, ...(o.wait === undefined ? {} : { maxWaitMs: o.wait }) });
                if (answer instanceof Promise) answer.then(onAnswer, () => settled++);
                else onAnswer(answer);
              } else if (o.op === 'release') {
                permits[o.index % Math.max(1, permits.length)]?.release(o.outcome);
                expect(gate.limit).toBe(Math.round(algorithm.limit));
              } else {
                await clock.tick(o.ms);
              }
              await Promise.resolve();
            }
            gate.close();
            await clock.runAll();
            for (const p of permits) p.release();
            await clock.runAll();
            expect(violations).toBe(0);
            expect(settled).toBe(issued);
            expect(gate.stats()).toMatchObject({ admitted: granted, released: granted, inFlight: 0, queued: 0 });
            expect(gate.limit).toBeGreaterThanOrEqual(algorithm.minLimit);
            expect(gate.limit).toBeLessThanOrEqual(algorithm.maxLimit);
            for (const p of gate.partitionStats()) expect(p).toMatchObject({ inFlight: 0, queued: 0, guarantee: Math.floor(gate.limit * p.share) });
          }),
          { numRuns: 40 },
        );
      });
    }
  }
});
