import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NONE } from '../../src/queue/item-store.js';
import { RingStore } from '../../src/queue/ring-store.js';

describe('RingStore', () => {
  it('behaves like an array under push / shift / evictAt, across wrap-around and growth', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.oneof(fc.constant<['push']>(['push']), fc.constant<['shift']>(['shift']), fc.tuple(fc.constant('evict' as const), fc.nat(100))), { maxLength: 200 }),
        (capacity, ops) => {
          const ring = new RingStore<number>(capacity);
          const model: number[] = [];
          let next = 0;
          for (const op of ops) {
            if (op[0] === 'push') {
              if (model.length >= capacity) continue;
              ring.push(next);
              model.push(next++);
            } else if (op[0] === 'shift') {
              const got = ring.shift();
              expect(got).toBe(model.length === 0 ? NONE : model.shift());
            } else if (model.length > 0) {
              const i = op[1] % model.length;
              expect(ring.evictAt(i)).toBe(model.splice(i, 1)[0]);
            }
            expect(ring.size).toBe(model.length);
          }
          expect(ring.drain()).toEqual(model);
          expect(ring.size).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps undefined as an item, distinct from empty', () => {
    const ring = new RingStore<undefined>(2);
    ring.push(undefined);
    expect(ring.shift()).toBeUndefined();
    expect(ring.shift()).toBe(NONE);
  });
});
