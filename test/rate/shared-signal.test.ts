// Rate waits sharing one AbortSignal: one 'abort' listener per signal whatever the number of
// waiters (reserved waits, and callers awaiting an async store); abort rejects each once.
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AbortedError, flushMicrotasks, VirtualClock } from '../../src/core/index.js';
import { KeyedRateLimiter, TokenBucket } from '../../src/rate/index.js';
import { AsyncStore, later, permit, track } from './helpers.js';

const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

describe('RateGate: waiters sharing one AbortSignal', () => {
  const make = () => {
    const clock = new VirtualClock();
    const gate = new TokenBucket({ name: 'api', rate: 10, perMs: 1000, burst: 5, maxWaitMs: 100_000, clock });
    return { clock, gate };
  };

  it('holds one listener; abort rejects every waiter once, refunds every reservation, removes it', async () => {
    const { clock, gate } = make();
    permit(gate.admit({ cost: 5 }));
    const ac = new AbortController();
    const waits = Array.from({ length: 300 }, () => track(later(gate.admit({ signal: ac.signal }))));
    expect(gate.stats()).toMatchObject({ queued: 300, tokens: -300 });
    expect(listeners(ac.signal)).toBe(1);
    ac.abort(new Error('batch cancelled'));
    expect(listeners(ac.signal)).toBe(0);
    expect(gate.stats()).toMatchObject({ queued: 0, tokens: 0 }); // the chain is refunded whole
    expect(clock.pendingTimers).toBe(0);
    await flushMicrotasks();
    for (const w of waits) {
      expect(w.error()).toBeInstanceOf(AbortedError);
      expect(((w.error() as AbortedError).cause as Error).message).toBe('batch cancelled');
    }
    clock.advance(100_000);
    await flushMicrotasks();
    expect(gate.stats().admitted).toBe(1); // no late grant
  });

  it('a waiter granted early leaves the list; the last one out removes the listener', async () => {
    const { clock, gate } = make();
    permit(gate.admit({ cost: 5 }));
    const ac = new AbortController();
    const other = new AbortController();
    const first = track(later(gate.admit({ signal: ac.signal }))); // due 100
    const second = track(later(gate.admit({ signal: ac.signal }))); // due 200
    const unrelated = track(later(gate.admit({ signal: other.signal }))); // due 300
    const last = track(later(gate.admit({ signal: ac.signal }))); // due 400
    expect([listeners(ac.signal), listeners(other.signal)]).toEqual([1, 1]);
    clock.advance(200);
    await flushMicrotasks();
    expect([first.value()?.ok, second.value()?.ok]).toEqual([true, true]);
    expect(listeners(ac.signal)).toBe(1);
    ac.abort();
    await flushMicrotasks();
    expect(last.error()).toBeInstanceOf(AbortedError);
    expect(listeners(ac.signal)).toBe(0);
    expect(gate.stats()).toMatchObject({ queued: 1, tokens: -1 }); // the newest was refunded; `unrelated` stays
    clock.advance(100);
    await flushMicrotasks();
    expect(unrelated.value()?.ok).toBe(true);
    expect(listeners(other.signal)).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('close settles the waiters of a shared signal once and removes the listener', async () => {
    const { clock, gate } = make();
    permit(gate.admit({ cost: 5 }));
    const ac = new AbortController();
    const waits = Array.from({ length: 20 }, () => track(later(gate.admit({ signal: ac.signal }))));
    gate.close();
    expect(listeners(ac.signal)).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    ac.abort();
    await flushMicrotasks();
    for (const w of waits) expect(w.value()).toMatchObject({ ok: false, reason: 'closed' });
  });

  it('callers awaiting an async store share one listener; abort rejects each once; late decisions are refunded', async () => {
    const store = new AsyncStore();
    const gate = new KeyedRateLimiter({ policy: { algorithm: 'token-bucket', rate: 10, perMs: 1000, burst: 100 }, store, clock: new VirtualClock() });
    const ac = new AbortController();
    const calls = Array.from({ length: 100 }, () => track(later(gate.admit({ key: 'k', signal: ac.signal }))));
    expect(listeners(ac.signal)).toBe(1);
    ac.abort();
    expect(listeners(ac.signal)).toBe(0);
    await flushMicrotasks();
    for (const c of calls) expect(c.error()).toBeInstanceOf(AbortedError);
    store.answer();
    await flushMicrotasks();
    expect(store.refunds).toHaveLength(100); // every allowed decision given back
    for (const c of calls) expect(c.error()).toBeInstanceOf(AbortedError); // not settled again
    expect(gate.stats().admitted).toBe(0);
  });

  it('callers answered by an async store leave the list; the last one out removes the listener', async () => {
    const store = new AsyncStore();
    const gate = new KeyedRateLimiter({ policy: { algorithm: 'token-bucket', rate: 10, perMs: 1000, burst: 3 }, store, clock: new VirtualClock() });
    const ac = new AbortController();
    const calls = Array.from({ length: 3 }, () => later(gate.admit({ key: 'k', signal: ac.signal })));
    expect(listeners(ac.signal)).toBe(1);
    store.answer();
    for (const c of calls) await expect(c).resolves.toMatchObject({ ok: true });
    expect(listeners(ac.signal)).toBe(0);
    ac.abort();
    expect(store.refunds).toEqual([]);
  });
});
