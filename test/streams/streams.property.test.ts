/**
 * Random pipelines (sources × operator chains) under random subscriber behaviour — requests of
 * random sizes, requests from inside onNext, cancel at a random point, turns of the event loop
 * between — checking the invariants every subscriber relies on:
 *  (a) never more onNext than requested (§1.1);
 *  (b) signals are serial: none entered while another is on the stack (§1.3);
 *  (c) nothing after a terminal signal, and at most one terminal signal (§1.7);
 *  (d) nothing after cancel returned (§1.8);
 *  (e) items arrive in source order through order-preserving stages, none duplicated.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Operator, Publisher } from '../../src/streams/index.js';
import { buffer, filter, fromArray, fromAsyncIterable, fromIterable, map, mapAsync, skip, take } from '../../src/streams/index.js';
import { Probe, settle } from './probe.js';

type SourceKind = 'array' | 'generator' | 'async';
type OpKind = 'map' | 'filter' | 'take' | 'skip' | 'buffer' | 'mapAsync';
type Step = { t: 'request'; n: number } | { t: 'flush' } | { t: 'cancel' };

function source(kind: SourceKind, n: number): Publisher<number> {
  const items = Array.from({ length: n }, (_, i) => i);
  if (kind === 'array') return fromArray(items);
  if (kind === 'generator') return fromIterable(items.values());
  return fromAsyncIterable(
    (async function* () {
      for (const x of items) yield x;
    })(),
  );
}

function op(kind: OpKind, k: number): Operator<number, number> {
  switch (kind) {
    case 'map':
      return map((x: number) => x);
    case 'filter':
      return filter((x: number) => x % (k + 2) !== 1);
    case 'take':
      return take(k * 3);
    case 'skip':
      return skip(k);
    case 'buffer':
      return buffer(k + 1);
    case 'mapAsync':
      return mapAsync(async (x: number) => x, { concurrency: k + 1 });
  }
}

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ t: fc.constant('request' as const), n: fc.integer({ min: 1, max: 7 }) }), weight: 5 },
  { arbitrary: fc.constant({ t: 'flush' as const }), weight: 3 },
  { arbitrary: fc.constant({ t: 'cancel' as const }), weight: 1 },
);

describe('streams invariants (property)', () => {
  it('hold for random pipelines and random subscribers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<SourceKind>('array', 'generator', 'async'),
        fc.integer({ min: 0, max: 30 }),
        fc.array(fc.tuple(fc.constantFrom<OpKind>('map', 'filter', 'take', 'skip', 'buffer', 'mapAsync'), fc.integer({ min: 0, max: 4 })), { maxLength: 4 }),
        fc.array(stepArb, { maxLength: 25 }),
        fc.integer({ min: 0, max: 3 }),
        async (kind, n, ops, steps, reentrant) => {
          let pub = source(kind, n);
          for (const [o, k] of ops) pub = op(o, k)(pub);
          let cancelled = false;
          let afterCancel = 0;
          const p = new Probe<number>({
            onNext: (_x, _s, probe) => {
              if (cancelled) afterCancel++;
              if (reentrant > 0 && probe.items.length % 2 === 0) probe.request(reentrant);
            },
          });
          pub.subscribe(p);
          for (const s of steps) {
            if (s.t === 'request') p.request(s.n);
            else if (s.t === 'flush') await settle();
            else {
              p.subscription!.cancel();
              cancelled = true;
            }
          }
          p.request(1000);
          await settle(4);
          expect(p.violations).toEqual([]);
          expect(afterCancel).toBe(0);
          const terminals = p.signals.filter((s) => s.type === 'complete' || s.type === 'error');
          expect(terminals.length).toBeLessThanOrEqual(1);
          expect(p.error).toBeUndefined();
          const items = p.items;
          for (let i = 1; i < items.length; i++) expect(items[i]!).toBeGreaterThan(items[i - 1]!);
          if (!cancelled) expect(p.completed).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
