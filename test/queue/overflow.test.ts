import dc from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { ClosedError, RejectedError, VirtualClock } from '../../src/core/index.js';
import type { DropEvent, GateEvent } from '../../src/core/index.js';
import { Channel } from '../../src/queue/index.js';
import type { DropPolicy } from '../../src/queue/index.js';
import { observe, settle } from './helpers.js';

function channel(overflow: 'block' | 'drop-newest' | 'drop-oldest' | 'drop-random' | 'reject', extra: object = {}) {
  const clock = new VirtualClock();
  const drops: [number, DropPolicy][] = [];
  const events: GateEvent[] = [];
  const ch = new Channel<number>({ capacity: 3, overflow, clock, onDrop: (item, policy) => drops.push([item, policy]), ...extra });
  ch.on((e) => events.push(e));
  return { clock, ch, drops, events };
}

function takeAll(ch: Channel<number>): number[] {
  const out: number[] = [];
  for (let r = ch.tryTake(); r.ok; r = ch.tryTake()) out.push(r.value);
  return out;
}

describe('overflow: drop-newest', () => {
  it('drops the incoming item, tells its putter, and reports it', async () => {
    const { ch, drops, events } = channel('drop-newest');
    for (const i of [1, 2, 3]) expect(await ch.put(i)).toBe('accepted');
    expect(await ch.put(4)).toBe('dropped');
    expect(ch.tryPut(5)).toBe('dropped');
    expect(drops).toEqual([
      [4, 'drop-newest'],
      [5, 'drop-newest'],
    ]);
    expect(events.filter((e) => e.type === 'drop')).toHaveLength(2);
    const s = ch.stats();
    expect(s.dropped).toBe(2);
    expect(s.droppedBy['drop-newest']).toBe(2);
    expect(s.admitted).toBe(3);
    expect(takeAll(ch)).toEqual([1, 2, 3]);
  });
});

describe('overflow: drop-oldest', () => {
  it('evicts the oldest queued item to make room for the new one', async () => {
    const { ch, drops } = channel('drop-oldest');
    for (const i of [1, 2, 3, 4, 5]) expect(await ch.put(i)).toBe('accepted');
    expect(drops).toEqual([
      [1, 'drop-oldest'],
      [2, 'drop-oldest'],
    ]);
    expect(ch.size).toBe(3);
    expect(takeAll(ch)).toEqual([3, 4, 5]);
    expect(ch.stats().droppedBy['drop-oldest']).toBe(2);
  });
});

describe('overflow: drop-random', () => {
  it('evicts the queued item the injected random source picks, keeping the others in order', () => {
    const draws = [0.5, 0, 0.99];
    const { ch, drops } = channel('drop-random', { random: () => draws.shift()! });
    for (const i of [1, 2, 3]) ch.tryPut(i);
    ch.tryPut(4); // 0.5 * 3 -> index 1 -> item 2
    expect(drops).toEqual([[2, 'drop-random']]);
    ch.tryPut(5); // index 0 -> item 1
    ch.tryPut(6); // 0.99 * 3 -> index 2 -> item 5
    expect(drops.map((d) => d[0])).toEqual([2, 1, 5]);
    expect(takeAll(ch)).toEqual([3, 4, 6]);
    expect(ch.stats().droppedBy['drop-random']).toBe(3);
  });

  it('clamps a random source that leaves [0, 1)', () => {
    const { ch, drops } = channel('drop-random', { random: () => 7 });
    for (const i of [1, 2, 3, 4]) ch.tryPut(i);
    expect(drops).toEqual([[3, 'drop-random']]);
  });
});

describe('overflow: reject', () => {
  it('rejects with queue_full and a retryAfterMs from the drain rate', async () => {
    const { clock, ch, events } = channel('reject');
    for (const i of [1, 2, 3]) await ch.put(i);
    // Drain 10 items over 1000 ms (refilling), i.e. one slot per 100 ms.
    for (let k = 0; k < 10; k++) {
      clock.advance(100);
      ch.tryTake();
      ch.tryPut(10 + k);
    }
    const err = await ch.put(99).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RejectedError);
    expect((err as RejectedError).reason).toBe('queue_full');
    expect((err as RejectedError).retryAfterMs).toBeCloseTo(100, 5);
    const r = ch.tryPut(100);
    expect(typeof r === 'object' && r.reason).toBe('queue_full');
    expect(ch.stats().rejected.queue_full).toBe(2);
    expect(events.filter((e) => e.type === 'reject')).toHaveLength(2);
    expect(ch.stats().dropped).toBe(0);
  });

  it('suggests at least one window when the consumer has stalled', () => {
    const { clock, ch } = channel('reject');
    for (const i of [1, 2, 3]) ch.tryPut(i);
    clock.advance(250);
    const r = ch.tryPut(4);
    expect(typeof r === 'object' && r.retryAfterMs).toBe(1000);
  });
});

describe('overflow: block', () => {
  it('waits for space and hands slots to blocked puts in FIFO order', async () => {
    const { ch } = channel('block');
    for (const i of [1, 2, 3]) await ch.put(i);
    const p4 = observe(ch.put(4));
    const p5 = observe(ch.put(5));
    await settle();
    expect(p4.state).toBe('pending');
    expect(ch.stats().blockedPuts).toBe(2);
    // tryPut does not jump the queue of blocked puts.
    const r = ch.tryPut(6);
    expect(typeof r === 'object' && r.reason).toBe('queue_full');
    expect(await ch.take()).toBe(1);
    await settle();
    expect(p4.state).toBe('fulfilled');
    expect(p5.state).toBe('pending');
    expect(ch.size).toBe(3);
    expect(takeAll(ch)).toEqual([2, 3, 4, 5]);
    await settle();
    expect(p5.value).toBe('accepted');
  });

  it('rejects a blocked put with queue_timeout at maxPutWaitMs, leaving no timer', async () => {
    const { clock, ch, events } = channel('block', { maxPutWaitMs: 50 });
    for (const i of [1, 2, 3]) await ch.put(i);
    const p = observe(ch.put(4));
    expect(clock.pendingTimers).toBe(1);
    clock.advance(49);
    await settle();
    expect(p.state).toBe('pending');
    clock.advance(1);
    await settle();
    expect(p.state).toBe('rejected');
    expect(p.error).toBeInstanceOf(RejectedError);
    expect((p.error as RejectedError).reason).toBe('queue_timeout');
    expect(clock.pendingTimers).toBe(0);
    expect(ch.stats().rejected.queue_timeout).toBe(1);
    expect(ch.stats().blockedPuts).toBe(0);
    expect(events.some((e) => e.type === 'reject' && e.reason === 'queue_timeout')).toBe(true);
    expect(takeAll(ch)).toEqual([1, 2, 3]);
  });

  it('uses the earliest of maxPutWaitMs, the context deadline and maxWaitMs', async () => {
    const { clock, ch } = channel('block', { maxPutWaitMs: 1000 });
    for (const i of [1, 2, 3]) await ch.put(i);
    const byDeadline = observe(ch.put(4, { deadline: 30 }));
    const byMaxWait = observe(ch.put(5, { maxWaitMs: 20 }));
    const expired = observe(ch.put(6, { deadline: 0 }));
    await settle();
    expect(expired.state).toBe('rejected');
    clock.advance(20);
    await settle();
    expect(byMaxWait.state).toBe('rejected');
    expect(byDeadline.state).toBe('pending');
    clock.advance(10);
    await settle();
    expect(byDeadline.state).toBe('rejected');
    expect(clock.pendingTimers).toBe(0);
  });

  it('a take that frees a slot cancels the admitted put’s timer', async () => {
    const { clock, ch } = channel('block', { maxPutWaitMs: 50 });
    for (const i of [1, 2, 3]) await ch.put(i);
    const p = observe(ch.put(4));
    ch.tryTake();
    await settle();
    expect(p.value).toBe('accepted');
    expect(clock.pendingTimers).toBe(0);
  });

  it('reports waitedMs of a blocked put in its admit event', async () => {
    const { clock, ch, events } = channel('block');
    for (const i of [1, 2, 3]) await ch.put(i);
    const p = ch.put(4, { key: 'tenant-a' });
    clock.advance(40);
    ch.tryTake();
    expect(await p).toBe('accepted');
    const admit = events.filter((e) => e.type === 'admit').at(-1);
    expect(admit).toMatchObject({ type: 'admit', key: 'tenant-a', waitedMs: 40, kind: 'channel' });
  });
});

describe('handing over to waiting takes', () => {
  it('gives an arriving item to the first waiting take, in order', async () => {
    const { ch } = channel('block');
    const t1 = observe(ch.take());
    const t2 = observe(ch.take());
    await settle();
    expect(ch.stats().waitingTakes).toBe(2);
    ch.tryPut(1);
    ch.tryPut(2);
    ch.tryPut(3);
    await settle();
    expect([t1.value, t2.value]).toEqual([1, 2]);
    expect(ch.size).toBe(1);
    expect(ch.stats()).toMatchObject({ taken: 2, admitted: 3, queued: 1, waitingTakes: 0, peakSize: 1 });
  });
});

describe('drop reporting', () => {
  it('publishes drops on the sluice:drop diagnostics channel', () => {
    const seen: DropEvent[] = [];
    const sub = (m: unknown) => seen.push(m as DropEvent);
    dc.subscribe('sluice:drop', sub);
    try {
      const ch = new Channel<number>({ capacity: 1, overflow: 'drop-oldest', name: 'dc-test', clock: new VirtualClock() });
      ch.tryPut(1);
      ch.tryPut(2);
      expect(seen).toEqual([{ type: 'drop', gate: 'dc-test', kind: 'channel', at: 0, policy: 'drop-oldest', count: 1 }]);
    } finally {
      dc.unsubscribe('sluice:drop', sub);
    }
  });

  it('turns an onDrop that throws into a warning; the drop still counts', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const ch = new Channel<number>({
        capacity: 1,
        overflow: 'drop-newest',
        clock: new VirtualClock(),
        onDrop: () => {
          throw new Error('boom');
        },
      });
      ch.tryPut(1);
      expect(ch.tryPut(2)).toBe('dropped');
      expect(ch.stats().dropped).toBe(1);
      await settle();
      expect(warnings.some((w) => w.includes('boom'))).toBe(true);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('lets onDrop call back into the channel', () => {
    const clock = new VirtualClock();
    const requeued: number[] = [];
    const ch: Channel<number> = new Channel<number>({
      capacity: 2,
      overflow: 'drop-oldest',
      clock,
      onDrop: (item) => {
        requeued.push(item);
        if (item < 100) ch.tryPut(item + 100); // evicts again, re-entrantly
      },
    });
    ch.tryPut(1);
    ch.tryPut(2);
    ch.tryPut(3);
    expect(ch.size).toBeLessThanOrEqual(2);
    expect(requeued.length).toBeGreaterThan(0);
  });
});

describe('closed channel', () => {
  it('rejects puts with ClosedError and tryPut with a closed rejection', async () => {
    const { ch } = channel('block');
    ch.close();
    await expect(ch.put(1)).rejects.toBeInstanceOf(ClosedError);
    const r = ch.tryPut(1);
    expect(typeof r === 'object' && r.reason).toBe('closed');
    expect(ch.stats().rejected.closed).toBe(2);
  });
});
