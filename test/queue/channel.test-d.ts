import { expectTypeOf, test } from 'vitest';
import type { Rejection } from '../../src/core/index.js';
import { Channel } from '../../src/queue/index.js';
import type { ChannelStats, DropPolicy, PutResult, TakeResult } from '../../src/queue/index.js';

test('channel types', () => {
  const ch = new Channel<{ id: number }>({
    capacity: 8,
    onDrop: (item, policy) => {
      expectTypeOf(item).toEqualTypeOf<{ id: number }>();
      expectTypeOf(policy).toEqualTypeOf<DropPolicy>();
    },
  });
  expectTypeOf(ch.put({ id: 1 })).toEqualTypeOf<Promise<PutResult>>();
  expectTypeOf(ch.tryPut({ id: 1 })).toEqualTypeOf<PutResult | Rejection>();
  expectTypeOf(ch.take()).toEqualTypeOf<Promise<{ id: number }>>();
  expectTypeOf(ch.tryTake()).toEqualTypeOf<TakeResult<{ id: number }>>();
  expectTypeOf(ch.closeNow()).toEqualTypeOf<{ id: number }[]>();
  expectTypeOf(ch.stats()).toEqualTypeOf<ChannelStats>();
  expectTypeOf<PutResult>().toEqualTypeOf<'accepted' | 'dropped'>();
  // @ts-expect-error: items are typed
  void ch.put('nope');
  // @ts-expect-error: unknown overflow strategy
  new Channel<number>({ capacity: 1, overflow: 'spill' });
  // @ts-expect-error: capacity is required
  new Channel<number>({});
});
