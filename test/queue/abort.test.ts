import { describe, expect, it } from 'vitest';
import { AbortedError, InvalidArgumentError, RejectedError, VirtualClock } from '../../src/core/index.js';
import { Channel } from '../../src/queue/index.js';
import { observe, settle } from './helpers.js';

describe('AbortSignal', () => {
  it('removes a waiting take at once and rejects it with AbortedError; no timer leaks', async () => {
    const clock = new VirtualClock();
    const ch = new Channel<number>({ capacity: 2, clock });
    const ac = new AbortController();
    const t = observe(ch.take({ signal: ac.signal, maxWaitMs: 1000 }));
    const other = observe(ch.take());
    await settle();
    expect(clock.pendingTimers).toBe(1);
    ac.abort('stop');
    await settle();
    expect(t.error).toBeInstanceOf(AbortedError);
    expect((t.error as AbortedError).cause).toBe('stop');
    expect(clock.pendingTimers).toBe(0);
    expect(ch.stats()).toMatchObject({ waitingTakes: 1, aborted: 1 });
    ch.tryPut(7); // goes to the remaining take, not to the aborted one
    await settle();
    expect(other.value).toBe(7);
  });

  it('removes a blocked put at once; its item never enters the channel', async () => {
    const clock = new VirtualClock();
    const ch = new Channel<number>({ capacity: 1, clock, maxPutWaitMs: 100 });
    ch.tryPut(1);
    const ac = new AbortController();
    const p = observe(ch.put(2, { signal: ac.signal }));
    const q = observe(ch.put(3));
    ac.abort();
    await settle();
    expect(p.error).toBeInstanceOf(AbortedError);
    expect(ch.stats().blockedPuts).toBe(1);
    expect(clock.pendingTimers).toBe(1);
    expect(ch.tryTake()).toEqual({ ok: true, value: 1 });
    expect(ch.tryTake()).toEqual({ ok: true, value: 3 });
    await settle();
    expect(q.value).toBe('accepted');
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects at once when the signal is already aborted, even with room or items', async () => {
    const ch = new Channel<number>({ capacity: 1, clock: new VirtualClock() });
    const signal = AbortSignal.abort();
    await expect(ch.put(1, { signal })).rejects.toBeInstanceOf(AbortedError);
    expect(ch.size).toBe(0);
    ch.tryPut(1);
    await expect(ch.take({ signal })).rejects.toBeInstanceOf(AbortedError);
    expect(ch.size).toBe(1);
  });

  it('take(max) refuses an aborted signal or a bad context even with items buffered, as take() does', async () => {
    // Before, take(max, ctx) looked at its context only when the channel was empty: with items
    // there it took them for a caller who had already given up, or with maxWaitMs: -1.
    const ch = new Channel<number>({ capacity: 2, clock: new VirtualClock() });
    ch.tryPut(1);
    ch.tryPut(2);
    await expect(ch.take(2, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
    await expect(ch.take(2, { maxWaitMs: -1 })).rejects.toThrow('maxWaitMs: expected a number >= 0, received -1');
    expect(ch.size).toBe(2);
    expect(ch.stats().aborted).toBe(1);
    expect(await ch.take(2)).toEqual([1, 2]);
  });

  it('an abort after the waiter was served is a no-op', async () => {
    const ch = new Channel<number>({ capacity: 1, clock: new VirtualClock() });
    const ac = new AbortController();
    const t = ch.take({ signal: ac.signal });
    ch.tryPut(5);
    ac.abort();
    expect(await t).toBe(5);
    expect(ch.stats().aborted).toBe(0);
  });
});

describe('take deadline', () => {
  it('rejects a waiting take with queue_timeout when its deadline passes', async () => {
    const clock = new VirtualClock();
    const ch = new Channel<number>({ capacity: 1, clock });
    const t = observe(ch.take({ maxWaitMs: 10 }));
    clock.advance(10);
    await settle();
    expect(t.error).toBeInstanceOf(RejectedError);
    expect((t.error as RejectedError).reason).toBe('queue_timeout');
    expect(ch.stats()).toMatchObject({ takeTimeouts: 1, waitingTakes: 0 });
    expect(ch.stats().rejected.queue_timeout).toBe(0); // put refusals only
    expect(clock.pendingTimers).toBe(0);
  });

  it('returns an available item even past the deadline', async () => {
    const clock = new VirtualClock(100);
    const ch = new Channel<number>({ capacity: 1, clock });
    ch.tryPut(1);
    expect(await ch.take({ deadline: 0 })).toBe(1);
    await expect(ch.take({ deadline: 0 })).rejects.toBeInstanceOf(RejectedError);
  });
});

describe('invalid contexts', () => {
  it('rejects put/take and throws from tryPut, naming the field', async () => {
    const ch = new Channel<number>({ capacity: 1, clock: new VirtualClock() });
    await expect(ch.put(1, { priority: Number.NaN })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(ch.take({ maxWaitMs: -1 })).rejects.toMatchObject({ argument: 'maxWaitMs' });
    expect(() => ch.tryPut(1, { priority: Infinity })).toThrow(InvalidArgumentError);
    expect(ch.size).toBe(0);
  });
});
