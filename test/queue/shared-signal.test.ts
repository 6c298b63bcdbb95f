// Blocked puts and waiting takes sharing one AbortSignal: one 'abort' listener per signal (per
// role), whatever the number of waiters; abort rejects each once; early leavers unlink.
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AbortedError, ClosedError, VirtualClock } from '../../src/core/index.js';
import { Channel } from '../../src/queue/index.js';
import { observe, settle } from './helpers.js';

const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

describe('Channel: waiters sharing one AbortSignal', () => {
  for (const discipline of ['fifo', 'priority'] as const) {
    it(`blocked puts (${discipline}): one listener while they wait; abort rejects each once and removes it`, async () => {
      const clock = new VirtualClock();
      const ch = new Channel<number>({ capacity: 1, overflow: 'block', discipline, clock });
      expect(ch.tryPut(-1)).toBe('accepted');
      const ac = new AbortController();
      const puts = Array.from({ length: 500 }, (_, i) => observe(ch.put(i, { signal: ac.signal, priority: i % 3 })));
      expect(ch.stats().blockedPuts).toBe(500);
      expect(listeners(ac.signal)).toBe(1);
      ac.abort(new Error('batch cancelled'));
      expect(ch.stats().blockedPuts).toBe(0);
      expect(listeners(ac.signal)).toBe(0);
      await settle();
      for (const p of puts) {
        expect(p.state).toBe('rejected');
        expect(p.error).toBeInstanceOf(AbortedError);
        expect(((p.error as AbortedError).cause as Error).message).toBe('batch cancelled');
      }
      expect(ch.stats()).toMatchObject({ aborted: 500, size: 1 });
      expect(ch.tryTake()).toEqual({ ok: true, value: -1 }); // nothing of the aborted puts got in
      expect(ch.tryTake()).toEqual({ ok: false, done: false });
      expect(clock.pendingTimers).toBe(0);
    });
  }

  it('waiting takes: one listener while they wait; abort rejects each once and removes it', async () => {
    const clock = new VirtualClock();
    const ch = new Channel<number>({ capacity: 4, clock });
    const ac = new AbortController();
    const takes = Array.from({ length: 500 }, () => observe(ch.take({ signal: ac.signal })));
    const it = ch.values({ signal: ac.signal });
    const next = observe(it.next());
    expect(ch.stats().waitingTakes).toBe(501);
    expect(listeners(ac.signal)).toBe(1);
    ac.abort();
    expect(ch.stats().waitingTakes).toBe(0);
    expect(listeners(ac.signal)).toBe(0);
    await settle();
    for (const t of takes) {
      expect(t.state).toBe('rejected');
      expect(t.error).toBeInstanceOf(AbortedError);
    }
    expect(next.state).toBe('rejected');
    expect(next.error).toBeInstanceOf(AbortedError);
    expect(ch.stats().aborted).toBe(501);
    expect(ch.tryPut(1)).toBe('accepted'); // goes to the buffer: no aborted take received it
    expect(ch.size).toBe(1);
  });

  it('puts and takes on one signal: a listener per role, each removed by its last waiter', async () => {
    const clock = new VirtualClock();
    const ac = new AbortController();
    const full = new Channel<number>({ capacity: 1, clock });
    full.tryPut(0);
    const empty = new Channel<number>({ capacity: 1, clock });
    const put = observe(full.put(1, { signal: ac.signal }));
    const take = observe(empty.take({ signal: ac.signal }));
    expect(listeners(ac.signal)).toBe(2);
    expect(full.tryTake()).toEqual({ ok: true, value: 0 }); // the put gets in
    await settle();
    expect(put.state).toBe('fulfilled');
    expect(listeners(ac.signal)).toBe(1);
    expect(empty.tryPut(7)).toBe('accepted'); // the take is served
    await settle();
    expect(take.value).toBe(7);
    expect(listeners(ac.signal)).toBe(0);
  });

  it('a put that leaves early (admitted, expired) unlinks itself; the last one out removes the listener', async () => {
    const clock = new VirtualClock();
    const ch = new Channel<string>({ capacity: 1, clock });
    ch.tryPut('x');
    const ac = new AbortController();
    const other = new AbortController();
    const first = observe(ch.put('first', { signal: ac.signal }));
    const timed = observe(ch.put('timed', { signal: ac.signal, maxWaitMs: 10 }));
    const last = observe(ch.put('last', { signal: ac.signal }));
    const unrelated = observe(ch.put('unrelated', { signal: other.signal }));
    expect(listeners(ac.signal)).toBe(1);
    expect(listeners(other.signal)).toBe(1);

    expect(ch.tryTake()).toEqual({ ok: true, value: 'x' }); // admits `first`
    clock.advance(10); // `timed` expires
    await settle();
    expect(first.state).toBe('fulfilled');
    expect(timed.state).toBe('rejected');
    expect(timed.error).toMatchObject({ reason: 'queue_timeout' });
    expect(listeners(ac.signal)).toBe(1); // `last` still waits on it

    ac.abort();
    await settle();
    expect(last.error).toBeInstanceOf(AbortedError);
    expect(listeners(ac.signal)).toBe(0);
    expect(ch.stats().blockedPuts).toBe(1); // the other signal's put stays ...
    expect(ch.tryTake()).toEqual({ ok: true, value: 'first' }); // ... and gets the freed slot
    await settle();
    expect(unrelated.value).toBe('accepted');
    expect(listeners(other.signal)).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    ac.abort(); // nothing left to settle twice
    expect(ch.stats().aborted).toBe(1);
  });

  it('a take that leaves early (served, expired, iterator returned) unlinks itself; the last one out removes the listener', async () => {
    const clock = new VirtualClock();
    const ch = new Channel<number>({ capacity: 1, clock });
    const ac = new AbortController();
    const served = observe(ch.take({ signal: ac.signal }));
    const timed = observe(ch.take({ signal: ac.signal, maxWaitMs: 5 }));
    const it = ch.values({ signal: ac.signal });
    const next = observe(it.next());
    const last = observe(ch.take({ signal: ac.signal }));
    expect(listeners(ac.signal)).toBe(1);
    expect(ch.tryPut(1)).toBe('accepted');
    clock.advance(5);
    await it.return();
    await settle();
    expect(served.value).toBe(1);
    expect(timed.error).toMatchObject({ reason: 'queue_timeout' });
    expect(next.value).toEqual({ value: undefined, done: true });
    expect(listeners(ac.signal)).toBe(1);
    ac.abort();
    await settle();
    expect(last.error).toBeInstanceOf(AbortedError);
    expect(listeners(ac.signal)).toBe(0);
    expect(ch.stats()).toMatchObject({ aborted: 1, waitingTakes: 0 });
  });

  it('close settles every waiter of a shared signal once and removes the listeners; a later abort does nothing', async () => {
    const clock = new VirtualClock();
    const ac = new AbortController();
    const full = new Channel<number>({ capacity: 1, clock });
    full.tryPut(0);
    const puts = Array.from({ length: 50 }, (_, i) => observe(full.put(i, { signal: ac.signal, maxWaitMs: 100 })));
    const empty = new Channel<number>({ capacity: 1, clock });
    const takes = Array.from({ length: 50 }, () => observe(empty.take({ signal: ac.signal })));
    expect(listeners(ac.signal)).toBe(2);
    full.close();
    empty.close();
    expect(listeners(ac.signal)).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    ac.abort();
    await settle();
    for (const p of puts) expect(p.error).toBeInstanceOf(ClosedError);
    for (const t of takes) expect(t.error).toBeInstanceOf(ClosedError);
    expect(full.stats().aborted + empty.stats().aborted).toBe(0);
  });

  it('a signal used again after its waiters left gets a fresh listener', async () => {
    const ch = new Channel<number>({ capacity: 1, clock: new VirtualClock() });
    const ac = new AbortController();
    const a = observe(ch.take({ signal: ac.signal }));
    ch.tryPut(1);
    await settle();
    expect(a.value).toBe(1);
    expect(listeners(ac.signal)).toBe(0);
    const b = observe(ch.take({ signal: ac.signal }));
    expect(listeners(ac.signal)).toBe(1);
    ac.abort();
    await settle();
    expect(b.error).toBeInstanceOf(AbortedError);
    expect(listeners(ac.signal)).toBe(0);
  });
});
