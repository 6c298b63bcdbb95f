import { describe, expect, it } from 'vitest';
import { AbortedError, VirtualClock } from '../../src/core/index.js';
import { Channel } from '../../src/queue/index.js';
import { observe, settle } from './helpers.js';

describe('async iteration', () => {
  it('yields every item and ends when the channel is closed and drained', async () => {
    const ch = new Channel<number>({ capacity: 2, clock: new VirtualClock() });
    const producer = (async () => {
      for (let i = 0; i < 10; i++) await ch.put(i);
      ch.close();
    })();
    const seen: number[] = [];
    for await (const x of ch) seen.push(x);
    await producer;
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('breaking out does not close the channel and loses no item', async () => {
    const ch = new Channel<number>({ capacity: 5, clock: new VirtualClock() });
    for (let i = 0; i < 5; i++) ch.tryPut(i);
    const first: number[] = [];
    for await (const x of ch) {
      first.push(x);
      if (x === 1) break;
    }
    expect(first).toEqual([0, 1]);
    expect(ch.closed).toBe(false);
    ch.close();
    const rest: number[] = [];
    for await (const x of ch) rest.push(x);
    expect(rest).toEqual([2, 3, 4]);
  });

  it('return() while a next() is pending settles it done; the next item goes elsewhere', async () => {
    const ch = new Channel<number>({ capacity: 1, clock: new VirtualClock() });
    const it = ch.values();
    const pending = observe(it.next());
    const other = observe(ch.take());
    await settle();
    expect(ch.stats().waitingTakes).toBe(2);
    await it.return();
    await settle();
    expect(pending.value).toEqual({ value: undefined, done: true });
    ch.tryPut(9);
    await settle();
    expect(other.value).toBe(9);
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('values({ signal }) throws AbortedError out of the loop on abort', async () => {
    const ch = new Channel<number>({ capacity: 1, clock: new VirtualClock() });
    const ac = new AbortController();
    ch.tryPut(1);
    const seen: number[] = [];
    const loop = (async () => {
      for await (const x of ch.values({ signal: ac.signal })) seen.push(x);
    })();
    await settle();
    ac.abort();
    await expect(loop).rejects.toBeInstanceOf(AbortedError);
    expect(seen).toEqual([1]);
    expect(ch.stats().waitingTakes).toBe(0);
  });

  it('two consumers share the items without duplicates', async () => {
    const ch = new Channel<number>({ capacity: 4, clock: new VirtualClock() });
    const a: number[] = [];
    const b: number[] = [];
    const ca = (async () => {
      for await (const x of ch) a.push(x);
    })();
    const cb = (async () => {
      for await (const x of ch) b.push(x);
    })();
    for (let i = 0; i < 100; i++) await ch.put(i);
    ch.close();
    await Promise.all([ca, cb]);
    expect([...a, ...b].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
  });
});
