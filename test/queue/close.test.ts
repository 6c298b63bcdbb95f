import { describe, expect, it } from 'vitest';
import { ClosedError, VirtualClock } from '../../src/core/index.js';
import { Channel } from '../../src/queue/index.js';
import { observe, settle } from './helpers.js';

describe('close()', () => {
  it('lets queued items be taken, then settles takes as done and resolves drained', async () => {
    const clock = new VirtualClock();
    const ch = new Channel<number>({ capacity: 4, clock });
    ch.tryPut(1);
    ch.tryPut(2);
    const drained = observe(ch.drained);
    ch.close();
    expect(ch.closed).toBe(true);
    await settle();
    expect(drained.state).toBe('pending');
    expect(await ch.take()).toBe(1);
    expect(ch.tryTake()).toEqual({ ok: true, value: 2 });
    await settle();
    expect(drained.state).toBe('fulfilled');
    await expect(ch.take()).rejects.toBeInstanceOf(ClosedError);
    expect(ch.tryTake()).toEqual({ ok: false, done: true });
  });

  it('settles takes that were waiting on an empty channel', async () => {
    const clock = new VirtualClock();
    const ch = new Channel<number>({ capacity: 2, clock });
    const t = observe(ch.take({ maxWaitMs: 1000 }));
    const it = ch[Symbol.asyncIterator]();
    const n = observe(it.next());
    await settle();
    expect(clock.pendingTimers).toBe(1);
    ch.close();
    await settle();
    expect(t.state).toBe('rejected');
    expect(t.error).toBeInstanceOf(ClosedError);
    expect(n.value).toEqual({ value: undefined, done: true });
    expect(clock.pendingTimers).toBe(0);
    await ch.drained;
  });

  it('rejects puts blocked at close time with ClosedError; their items stay with the putter', async () => {
    const clock = new VirtualClock();
    const ch = new Channel<number>({ capacity: 1, clock, maxPutWaitMs: 500 });
    await ch.put(1);
    const blocked = observe(ch.put(2));
    ch.close();
    await settle();
    expect(blocked.error).toBeInstanceOf(ClosedError);
    expect(clock.pendingTimers).toBe(0);
    expect(ch.stats()).toMatchObject({ blockedPuts: 0, queued: 1 });
    expect(ch.stats().rejected.closed).toBe(1);
    expect(await ch.take()).toBe(1);
  });

  it('is idempotent', () => {
    const ch = new Channel<number>({ capacity: 1, clock: new VirtualClock() });
    ch.close();
    ch.close();
    expect(ch.closed).toBe(true);
  });
});

describe('closeNow()', () => {
  it('returns every undelivered item, settles everything and counts them', async () => {
    const clock = new VirtualClock();
    const ch = new Channel<string>({ capacity: 3, clock });
    await ch.put('a');
    await ch.put('b');
    await ch.put('c');
    const blocked = observe(ch.put('d'));
    const drained = observe(ch.drained);
    expect(ch.closeNow()).toEqual(['a', 'b', 'c']);
    await settle();
    expect(blocked.error).toBeInstanceOf(ClosedError);
    expect(drained.state).toBe('fulfilled');
    expect(ch.size).toBe(0);
    expect(ch.stats()).toMatchObject({ undelivered: 3, dropped: 0, closed: true });
    expect(ch.closeNow()).toEqual([]);
  });

  it('returns the rest after a graceful close()', async () => {
    const ch = new Channel<number>({ capacity: 3, clock: new VirtualClock() });
    ch.tryPut(1);
    ch.tryPut(2);
    ch.close();
    expect(await ch.take()).toBe(1);
    expect(ch.closeNow()).toEqual([2]);
  });

  it('returns items in arrival order for every discipline', () => {
    for (const discipline of ['fifo', 'lifo', 'codel', 'priority'] as const) {
      const ch = new Channel<number>({ capacity: 3, clock: new VirtualClock(), discipline });
      ch.tryPut(1, { priority: 0 });
      ch.tryPut(2, { priority: 5 });
      ch.tryPut(3, { priority: 1 });
      expect(ch.closeNow()).toEqual([1, 2, 3]);
    }
  });
});

describe('drained', () => {
  it('resolves at once when already drained', async () => {
    const ch = new Channel<number>({ capacity: 1, clock: new VirtualClock() });
    ch.close();
    await expect(ch.drained).resolves.toBeUndefined();
  });
});
