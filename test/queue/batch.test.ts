// Channel's batch API: putMany, take(max), batches(max), and the 'drop-latest' overflow.
import { describe, expect, it } from 'vitest';
import { ClosedError, InvalidArgumentError, RejectedError, VirtualClock } from '../../src/core/index.js';
import { Channel, type PutManyRefusal } from '../../src/queue/index.js';
import { observe, settle } from './helpers.js';

describe('Channel batch API', () => {
  it('putMany places what fits at once, blocks for the rest, and keeps the order', async () => {
    const ch = new Channel<number>({ capacity: 3 });
    const put = observe(ch.putMany([1, 2, 3, 4, 5]));
    await settle();
    expect(put.state).toBe('pending');
    expect(ch.size).toBe(3);
    expect(await ch.take(10)).toEqual([1, 2, 3, 4]); // each freed slot admits the blocked item at once
    await settle();
    expect(put.value).toEqual({ accepted: 5, dropped: 0 });
    expect(await ch.take(10)).toEqual([5]);
  });

  it('putMany counts what the overflow policy dropped (each also reported)', async () => {
    const dropped: number[] = [];
    const ch = new Channel<number>({ capacity: 2, overflow: 'drop-newest', onDrop: (x) => dropped.push(x) });
    expect(await ch.putMany([1, 2, 3, 4])).toEqual({ accepted: 2, dropped: 2 });
    expect(dropped).toEqual([3, 4]);
    expect(ch.stats().droppedBy['drop-newest']).toBe(2);
  });

  it('putMany rejects with the first refusal; the items before it stay in the channel', async () => {
    const ch = new Channel<number>({ capacity: 2, overflow: 'reject' });
    await expect(ch.putMany([1, 2, 3, 4])).rejects.toSatisfy((e) => e instanceof RejectedError && e.reason === 'queue_full');
    expect(ch.closeNow()).toEqual([1, 2]);
    await expect(ch.putMany([9])).rejects.toBeInstanceOf(ClosedError);
  });

  it('putMany refused part-way: the error carries the counts of the items before it (accepted, dropped)', async () => {
    const ch = new Channel<number>({ capacity: 1 });
    const put = ch.putMany([1, 2, 3]);
    await settle();
    ch.close(); // mid-call: item 2 is blocked, item 3 never offered
    await expect(put).rejects.toSatisfy((e: PutManyRefusal) => e instanceof ClosedError && e.accepted === 1 && e.dropped === 0);
    expect(ch.closeNow()).toEqual([1]);
    const full = new Channel<number>({ capacity: 2, overflow: 'reject' });
    await expect(full.putMany([1, 2, 3])).rejects.toMatchObject({ reason: 'queue_full', accepted: 2, dropped: 0 });
    const closed = new Channel<number>({ capacity: 2 });
    closed.close();
    await expect(closed.putMany([1])).rejects.toMatchObject({ code: 'SLUICE_ERR_CLOSED', accepted: 0, dropped: 0 });
  });

  it('putMany with a deadline: a blocked item times out on the virtual clock', async () => {
    const clock = new VirtualClock();
    const ch = new Channel<number>({ capacity: 1, clock });
    const put = observe(ch.putMany([1, 2], { maxWaitMs: 50 }));
    await settle();
    clock.advance(50);
    await settle();
    expect(put.state).toBe('rejected');
    expect((put.error as RejectedError).reason).toBe('queue_timeout');
  });

  it('take(max) gives what is buffered, up to max; waits for the first item when empty; rejects ClosedError when drained', async () => {
    const ch = new Channel<number>({ capacity: 10 });
    await ch.putMany([1, 2, 3]);
    expect(await ch.take(2)).toEqual([1, 2]);
    expect(await ch.take(5)).toEqual([3]);
    const waiting = ch.take(5);
    await ch.put(4);
    expect(await waiting).toEqual([4]);
    ch.close();
    await expect(ch.take(5)).rejects.toBeInstanceOf(ClosedError);
    expect(() => ch.take(0)).toThrow(InvalidArgumentError);
    expect(() => ch.take(1.5)).toThrow(/take\(max\): expected an integer >= 1, received 1\.5/);
  });

  it('batches(max) iterates in batches and ends when the channel is closed and drained; blocked puts refill', async () => {
    const ch = new Channel<number>({ capacity: 4 });
    const producer = (async () => {
      await ch.putMany(Array.from({ length: 10 }, (_, i) => i));
      ch.close();
    })();
    const got: number[][] = [];
    for await (const b of ch.batches(3)) got.push(b);
    await producer;
    expect(got.flat()).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(got.every((b) => b.length >= 1 && b.length <= 3)).toBe(true);
    expect(() => ch.batches(0)).toThrow(InvalidArgumentError);
  });

  it("overflow 'drop-latest' evicts the most recently buffered item for the incoming one", async () => {
    const dropped: number[] = [];
    const ch = new Channel<number>({ capacity: 3, overflow: 'drop-latest', onDrop: (x, p) => p === 'drop-latest' && dropped.push(x) });
    expect(await ch.putMany([1, 2, 3, 4, 5])).toEqual({ accepted: 5, dropped: 0 });
    expect(ch.closeNow()).toEqual([1, 2, 5]);
    expect(dropped).toEqual([3, 4]);
    expect(ch.stats().droppedBy['drop-latest']).toBe(2);
  });
});
