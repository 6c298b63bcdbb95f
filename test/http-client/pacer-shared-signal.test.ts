// Pacer waiters sharing one AbortSignal: one 'abort' listener per signal whatever the number of
// waiters; abort rejects each once (others keep their place); early leavers unlink.
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AbortedError, flushMicrotasks, VirtualClock } from '../../src/core/index.js';
import type { Admission, Permit } from '../../src/core/index.js';
import { Pacer } from '../../src/http-client/index.js';
import type { ServerQuota } from '../../src/http-client/index.js';

const listeners = (signal: AbortSignal): number => getEventListeners(signal, 'abort').length;

const quota = (remaining: number, resetMs: number, extra: Partial<ServerQuota> = {}): ServerQuota => ({
  policy: 'p',
  remaining,
  resetMs,
  limit: undefined,
  windowMs: undefined,
  unit: 'requests',
  source: 'draft',
  ...extra,
});

function held(clock: VirtualClock, resetMs: number, extra: Partial<ServerQuota> = {}): Pacer {
  const pacer = new Pacer({ clock });
  const p = pacer.admit();
  if (p instanceof Promise || !p.ok) throw new Error('expected a permit');
  pacer.observe(p, [quota(0, resetMs, extra)], undefined);
  return pacer;
}

function observe(p: Admission | Promise<Admission>): { settled: number; value: Admission | undefined; error: unknown } {
  if (!(p instanceof Promise)) throw new Error('expected a wait');
  const o = { settled: 0, value: undefined as Admission | undefined, error: undefined as unknown };
  p.then(
    (v) => {
      o.settled++;
      o.value = v;
    },
    (e: unknown) => {
      o.settled++;
      o.error = e;
    },
  );
  return o;
}

describe('Pacer: waiters sharing one AbortSignal', () => {
  it('holds one listener; abort rejects each of its waiters once, others keep their order', async () => {
    const clock = new VirtualClock();
    const pacer = held(clock, 1_000, { limit: 5, windowMs: 1_000 });
    const ac = new AbortController();
    const mixed = Array.from({ length: 400 }, (_, i) => (i % 100 === 0 ? observe(pacer.admit()) : observe(pacer.admit({ signal: ac.signal }))));
    expect(pacer.stats().queued).toBe(400);
    expect(listeners(ac.signal)).toBe(1);
    ac.abort(new Error('batch cancelled'));
    expect(listeners(ac.signal)).toBe(0);
    expect(pacer.stats().queued).toBe(4);
    await flushMicrotasks();
    mixed.forEach((o, i) => {
      if (i % 100 === 0) return expect(o.settled).toBe(0);
      expect(o.settled).toBe(1);
      expect(o.error).toBeInstanceOf(AbortedError);
      expect(((o.error as AbortedError).cause as Error).message).toBe('batch cancelled');
    });
    clock.advance(1_000); // a fresh window of 5: the 4 unaborted go, in arrival order
    await flushMicrotasks();
    const granted = [0, 100, 200, 300].map((i) => mixed[i]!.value as Permit);
    expect(granted.map((p) => p.ok)).toEqual([true, true, true, true]);
    expect(granted.map((p) => (p as unknown as { tag: number }).tag)).toEqual([2, 3, 4, 5]);
    expect(pacer.stats()).toMatchObject({ queued: 0, remaining: 1 });
    pacer.close();
    expect(clock.pendingTimers).toBe(0);
  });

  it('a single waiter of a signal aborts as before', async () => {
    const clock = new VirtualClock();
    const pacer = held(clock, 1_000);
    const ac = new AbortController();
    const a = observe(pacer.admit());
    const b = observe(pacer.admit({ signal: ac.signal }));
    ac.abort();
    await flushMicrotasks();
    expect([a.settled, b.settled]).toEqual([0, 1]);
    expect(b.error).toBeInstanceOf(AbortedError);
    expect(listeners(ac.signal)).toBe(0);
    pacer.close();
  });

  it('a waiter that leaves early (granted, timed out) unlinks itself; the last one out removes the listener', async () => {
    const clock = new VirtualClock();
    const pacer = held(clock, 1_000, { limit: 1, windowMs: 1_000 });
    const ac = new AbortController();
    const first = observe(pacer.admit({ signal: ac.signal })); // granted at 1000
    const timed = observe(pacer.admit({ signal: ac.signal, maxWaitMs: 1_500 })); // times out at 1500
    const last = observe(pacer.admit({ signal: ac.signal }));
    expect(listeners(ac.signal)).toBe(1);
    clock.advance(1_500);
    await flushMicrotasks();
    expect(first.value).toMatchObject({ ok: true });
    expect(timed.value).toMatchObject({ ok: false, reason: 'rate_limited' });
    expect(listeners(ac.signal)).toBe(1);
    ac.abort();
    await flushMicrotasks();
    expect(last.error).toBeInstanceOf(AbortedError);
    expect([first.settled, timed.settled, last.settled]).toEqual([1, 1, 1]);
    expect(listeners(ac.signal)).toBe(0);
    expect(pacer.stats().queued).toBe(0);
    pacer.close();
    expect(clock.pendingTimers).toBe(0);
  });

  it('close settles the waiters of a shared signal once and removes the listener', async () => {
    const clock = new VirtualClock();
    const pacer = held(clock, 1_000);
    const ac = new AbortController();
    const waits = Array.from({ length: 20 }, () => observe(pacer.admit({ signal: ac.signal, maxWaitMs: 5_000 })));
    pacer.close();
    expect(listeners(ac.signal)).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    ac.abort();
    await flushMicrotasks();
    for (const w of waits) {
      expect(w.settled).toBe(1);
      expect(w.value).toMatchObject({ ok: false, reason: 'closed' });
    }
  });
});
