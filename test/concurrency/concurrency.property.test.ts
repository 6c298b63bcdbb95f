import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import type { Admission, Permit } from '../../src/core/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import type { DisciplineName } from '../../src/discipline/index.js';

type Op =
  | { op: 'admit'; cost: number; priority: number; wait: number | undefined; partition: 'a' | 'b'; abortable: boolean }
  | { op: 'release'; index: number; outcome: 'success' | 'failure' | 'dropped' | 'ignored' }
  | { op: 'releaseAgain'; index: number }
  | { op: 'abort'; index: number }
  | { op: 'advance'; ms: number }
  | { op: 'setLimit'; limit: number }
  | { op: 'close' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 25, arbitrary: fc.record({ op: fc.constant('admit' as const), cost: fc.integer({ min: 1, max: 3 }), priority: fc.integer({ min: 0, max: 2 }), wait: fc.option(fc.integer({ min: 0, max: 50 }), { nil: undefined }), partition: fc.constantFrom('a' as const, 'b' as const), abortable: fc.boolean() }) },
  { weight: 20, arbitrary: fc.record({ op: fc.constant('release' as const), index: fc.nat(), outcome: fc.constantFrom('success' as const, 'failure' as const, 'dropped' as const, 'ignored' as const) }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('releaseAgain' as const), index: fc.nat() }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('abort' as const), index: fc.nat() }) },
  { weight: 10, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 40 }) }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('setLimit' as const), limit: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'close' as const }) },
);

describe('ConcurrencyGate invariants under random interleavings', () => {
  for (const discipline of ['fifo', 'lifo', 'codel', 'priority'] as DisciplineName[]) {
    for (const partitioned of [false, true]) {
      it(`${discipline}${partitioned ? ', partitioned' : ''}: in-flight never exceeds the limit, no permit lost or double-counted, every promise settles`, async () => {
        await fc.assert(
          fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.array(opArb, { maxLength: 80 }), async (limit, ops) => {
            const clock = new VirtualClock();
            const gate = new ConcurrencyGate({
              limit,
              maxQueue: 6,
              discipline,
              clock,
              ...(partitioned ? { partitions: { a: { share: 0.6 }, b: { share: 0.4 } } } : {}),
            });
            let violations = 0;
            gate.on((e) => {
              if (e.type === 'admit' && gate.inFlight > gate.limit) violations++;
            });
            const permits: Permit[] = [];
            const controllers: AbortController[] = [];
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
              switch (o.op) {
                case 'admit': {
                  const ac = new AbortController();
                  controllers.push(ac);
                  issued++;
                  let answer: Admission | Promise<Admission>;
                  try {
                    answer = gate.admit({ cost: o.cost, priority: o.priority, partition: partitioned ? o.partition : undefined, ...(o.wait === undefined ? {} : { maxWaitMs: o.wait }), ...(o.abortable ? { signal: ac.signal } : {}) } as never);
                  } catch {
                    settled++;
                    break;
                  }
                  if (answer instanceof Promise) answer.then(onAnswer, () => settled++);
                  else onAnswer(answer);
                  break;
                }
                case 'release':
                case 'releaseAgain': {
                  const p = permits[o.index % Math.max(1, permits.length)];
                  p?.release(o.op === 'release' ? o.outcome : 'success');
                  break;
                }
                case 'abort':
                  controllers[o.index % Math.max(1, controllers.length)]?.abort();
                  break;
                case 'advance':
                  await clock.tick(o.ms);
                  break;
                case 'setLimit':
                  gate.setLimit(o.limit);
                  break;
                case 'close':
                  gate.close();
                  break;
              }
              await Promise.resolve();
            }
            gate.close();
            await clock.runAll();
            for (const p of permits) p.release();
            await clock.runAll();
            expect(violations).toBe(0);
            expect(settled).toBe(issued);
            const s = gate.stats();
            expect(s.admitted).toBe(granted);
            expect(s.released).toBe(granted);
            expect(s.inFlight).toBe(0);
            expect(s.queued).toBe(0);
            expect(clock.pendingTimers).toBe(0);
            for (const p of gate.partitionStats()) expect(p).toMatchObject({ inFlight: 0, queued: 0 });
          }),
          { numRuns: 60 },
        );
      });
    }
  }
});
