// toAsyncIterator under the async-iterator protocol's concurrent calls: next() made before the
// one before it settled waits its turn (it used to reject with a TypeError), and return() while
// calls wait settles each with done. The source here is slow: it emits only when the test says.
import { describe, expect, it } from 'vitest';
import { toAsyncIterator } from '../../src/streams/index.js';
import type { Publisher, Subscriber } from '../../src/streams/index.js';

function slowSource<T>(): { pub: Publisher<T>; sub: () => Subscriber<T>; requested: number[]; cancels: () => number } {
  let got: Subscriber<T> | undefined;
  const requested: number[] = [];
  let cancels = 0;
  const pub: Publisher<T> = {
    subscribe: (s) => {
      got = s;
      s.onSubscribe({ request: (n) => void requested.push(n), cancel: () => void cancels++ });
    },
  };
  return { pub, sub: () => got!, requested, cancels: () => cancels };
}

/** Each promise's outcome, in the order the promises settled. */
function settleOrder<T>(ps: Promise<T>[]): { order: number[]; outcomes: (T | { error: unknown })[] } {
  const order: number[] = [];
  const outcomes: (T | { error: unknown })[] = [];
  ps.forEach((p, i) => {
    p.then(
      (v) => { order.push(i); outcomes[i] = v; },
      (error: unknown) => { order.push(i); outcomes[i] = { error }; },
    );
  });
  return { order, outcomes };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('toAsyncIterator: concurrent next()', () => {
  it('queues next() calls in order, each gets the next item, demand keeps flowing with batch 1', async () => {
    const src = slowSource<string>();
    const it = toAsyncIterator(src.pub, { batch: 1 });
    const calls = [it.next(), it.next(), it.next()];
    const seen = settleOrder(calls);
    await flush();
    expect(seen.order).toEqual([]);
    src.sub().onNext('a');
    src.sub().onNext('b');
    src.sub().onNext('c');
    await Promise.all(calls);
    expect(seen.order).toEqual([0, 1, 2]);
    expect(seen.outcomes).toEqual([{ value: 'a', done: false }, { value: 'b', done: false }, { value: 'c', done: false }]);
    expect(src.requested).toEqual([1, 1, 1, 1]);
    // Items that arrive with nobody waiting are held for the next call.
    src.sub().onNext('d');
    expect(await it.next()).toEqual({ value: 'd', done: false });
  });

  it('the end settles every waiting call: the first with the error, the later ones done', async () => {
    const src = slowSource<number>();
    const it = toAsyncIterator(src.pub);
    const calls = [it.next(), it.next(), it.next()];
    const seen = settleOrder(calls);
    src.sub().onNext(1);
    const boom = new Error('boom');
    src.sub().onError(boom);
    await Promise.allSettled(calls);
    expect(seen.order).toEqual([0, 1, 2]);
    expect(seen.outcomes).toEqual([{ value: 1, done: false }, { error: boom }, { value: undefined, done: true }]);
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('completion settles every waiting call with done', async () => {
    const src = slowSource<number>();
    const it = toAsyncIterator(src.pub);
    const calls = [it.next(), it.next()];
    src.sub().onComplete();
    expect(await Promise.all(calls)).toEqual([{ value: undefined, done: true }, { value: undefined, done: true }]);
  });

  it('return() while calls wait settles each with done and cancels the subscription once', async () => {
    const src = slowSource<number>();
    const it = toAsyncIterator(src.pub);
    const calls = [it.next(), it.next()];
    const seen = settleOrder(calls);
    await flush();
    const ret = it.return!();
    const outcomes = await Promise.all(calls);
    expect(await ret).toEqual({ value: undefined, done: true });
    expect(seen.order).toEqual([0, 1]);
    expect(outcomes).toEqual([{ value: undefined, done: true }, { value: undefined, done: true }]);
    expect(src.cancels()).toBe(1);
    // An item that races the cancel is not handed to anyone later.
    src.sub().onNext(7);
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });
});
