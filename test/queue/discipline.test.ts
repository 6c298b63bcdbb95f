import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import { Channel } from '../../src/queue/index.js';
import type { DropPolicy } from '../../src/queue/index.js';
import { observe, settle } from './helpers.js';

function codelChannel() {
  const clock = new VirtualClock();
  const drops: [number, DropPolicy][] = [];
  const ch = new Channel<number>({
    capacity: 100,
    clock,
    discipline: { type: 'codel', targetMs: 5, intervalMs: 100 },
    onDrop: (item, policy) => drops.push([item, policy]),
  });
  return { clock, ch, drops };
}

describe('CoDel discipline', () => {
  it('leaves a burst that drains within an interval alone', () => {
    const { clock, ch, drops } = codelChannel();
    for (let i = 0; i < 20; i++) ch.tryPut(i);
    const taken: number[] = [];
    for (let t = 0; t < 40; t++) {
      clock.advance(1);
      const r = ch.tryTake();
      if (r.ok) taken.push(r.value);
    }
    expect(drops).toEqual([]);
    expect(taken).toHaveLength(20);
    expect(ch.stats().dropped).toBe(0);
  });

  it('drops from a standing queue, reporting each drop with policy codel, until the delay is back under target', () => {
    const { clock, ch, drops } = codelChannel();
    let next = 0;
    for (; next < 20; next++) ch.tryPut(next);
    const taken: number[] = [];
    for (let t = 0; t < 2000; t++) {
      clock.advance(1);
      ch.tryPut(next++);
      const r = ch.tryTake();
      if (r.ok) taken.push(r.value);
    }
    expect(drops.length).toBeGreaterThan(0);
    expect(drops.every(([, policy]) => policy === 'codel')).toBe(true);
    expect(ch.stats().droppedBy.codel).toBe(drops.length);
    // The standing queue was cut down to about target / service time.
    expect(ch.size).toBeLessThanOrEqual(6);
    // Nothing lost or duplicated: every item is taken, dropped or still queued.
    const all = [...taken, ...drops.map(([item]) => item), ...ch.closeNow()].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: next }, (_, i) => i));
  });

  it('reports drops after a take that CoDel emptied, and that take still waits', async () => {
    const { clock, ch, drops } = codelChannel();
    ch.tryPut(1);
    clock.advance(10);
    ch.tryTake(); // sojourn 10 > target: starts the interval
    ch.tryPut(2);
    clock.advance(200);
    const t = observe(ch.take()); // 2 has stood 200 ms > target for > interval: dropped
    await settle();
    expect(drops).toEqual([[2, 'codel']]);
    expect(t.state).toBe('pending');
    ch.tryPut(3);
    await settle();
    expect(t.value).toBe(3);
  });
});

describe('priority discipline', () => {
  it('serves higher priority first', () => {
    const ch = new Channel<string>({ capacity: 10, clock: new VirtualClock(), discipline: 'priority' });
    ch.tryPut('low', { priority: 0 });
    ch.tryPut('high', { priority: 2 });
    ch.tryPut('mid', { priority: 1 });
    expect([ch.tryTake(), ch.tryTake(), ch.tryTake()].map((r) => r.ok && r.value)).toEqual(['high', 'mid', 'low']);
  });

  it('ages waiting items: every agingMs of waiting raises an item by one class', () => {
    const clock = new VirtualClock();
    const ch = new Channel<string>({ capacity: 10, clock, discipline: { type: 'priority', agingMs: 100 } });
    ch.tryPut('old-low', { priority: 0 });
    clock.advance(250);
    ch.tryPut('new-p2', { priority: 2 }); // 2 classes up, but 'old-low' has aged 2.5 classes
    ch.tryPut('new-p3', { priority: 3 }); // 3 classes beat 2.5
    expect([ch.tryTake(), ch.tryTake(), ch.tryTake()].map((r) => r.ok && r.value)).toEqual(['new-p3', 'old-low', 'new-p2']);
  });

  it('orders blocked puts by priority with the same aging', async () => {
    const clock = new VirtualClock();
    const ch = new Channel<string>({ capacity: 1, clock, discipline: { type: 'priority', agingMs: 100 } });
    ch.tryPut('first');
    const low = observe(ch.put('low', { priority: 0 }));
    clock.advance(10);
    const high = observe(ch.put('high', { priority: 1 }));
    ch.tryTake();
    await settle();
    expect(high.value).toBe('accepted');
    expect(low.state).toBe('pending');
    clock.advance(500);
    const later = observe(ch.put('later-high', { priority: 2 })); // 'low' has aged 5 classes
    ch.tryTake();
    await settle();
    expect(low.value).toBe('accepted');
    expect(later.state).toBe('pending');
    expect(ch.closeNow()).toEqual(['low']);
  });
});

describe('LIFO discipline', () => {
  it('serves the newest item first; blocked puts still wait in FIFO order', async () => {
    const ch = new Channel<number>({ capacity: 3, clock: new VirtualClock(), discipline: 'lifo' });
    for (const i of [1, 2, 3]) ch.tryPut(i);
    const p4 = observe(ch.put(4));
    const p5 = observe(ch.put(5));
    expect(ch.tryTake()).toEqual({ ok: true, value: 3 });
    await settle();
    expect(p4.value).toBe('accepted');
    expect(p5.state).toBe('pending');
    expect(ch.tryTake()).toEqual({ ok: true, value: 4 });
  });

  it('drop-oldest evicts the item that arrived first, not the next to serve', () => {
    const dropped: number[] = [];
    const ch = new Channel<number>({ capacity: 2, clock: new VirtualClock(), discipline: 'lifo', overflow: 'drop-oldest', onDrop: (i) => dropped.push(i) });
    for (const i of [1, 2, 3]) ch.tryPut(i);
    expect(dropped).toEqual([1]);
    expect(ch.closeNow()).toEqual([2, 3]);
  });
});
