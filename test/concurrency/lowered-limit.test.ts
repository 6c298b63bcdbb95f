// Black-box defects of ConcurrencyGate, as regressions: a queued waiter whose cost exceeds a
// lowered limit is refused instead of blocking the queue for ever, and a caller whose signal
// is already aborted is refused even when a slot is free.
import { describe, expect, it } from 'vitest';
import { AbortedError, VirtualClock } from '../../src/core/index.js';
import type { Admission, Permit } from '../../src/core/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { AimdLimit } from '../../src/limit/index.js';

function permit(a: Admission | Promise<Admission>): Permit {
  if (a instanceof Promise || !a.ok) throw new Error('expected an immediate permit');
  return a;
}

function queued(a: Admission | Promise<Admission>): Promise<Admission> {
  if (!(a instanceof Promise)) throw new Error('expected the caller to wait');
  return a;
}

describe('ConcurrencyGate: a waiter whose cost no longer fits', () => {
  it('setLimit below a queued cost: that waiter is refused (concurrency, retry never helps), the ones behind it are served', async () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ clock, limit: 4, maxQueue: 10 });
    const big = permit(gate.admit({ cost: 4 }));
    const heavy = queued(gate.admit({ cost: 3 }));
    const light = Array.from({ length: 5 }, () => queued(gate.admit()));
    gate.setLimit(2);
    big.release();
    expect(await heavy).toMatchObject({ ok: false, reason: 'concurrency', retryAfterMs: Infinity });
    const first = await Promise.all(light.slice(0, 2));
    expect(first.every((a) => a.ok)).toBe(true);
    expect(gate.stats()).toMatchObject({ inFlight: 2, queued: 3, limit: 2 });
    for (const a of first) if (a.ok) a.release();
    const rest = await Promise.all(light.slice(2, 4));
    expect(rest.every((a) => a.ok)).toBe(true);
    for (const a of rest) if (a.ok) a.release();
    const last = await light[4]!;
    expect(last.ok).toBe(true);
    if (last.ok) last.release();
    expect(gate.stats()).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('the issue case: in flight 0, limit 2, a waiter of cost 3 at the head and 5 behind it: every one settles', async () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ clock, limit: 3, maxQueue: 10, maxWaitMs: 60_000 });
    const hold = permit(gate.admit());
    const head = queued(gate.admit({ cost: 3 }));
    const behind = Array.from({ length: 5 }, () => queued(gate.admit()));
    gate.setLimit(2); // lowered while the head waits: with in flight 1 nothing fits the head yet
    hold.release();
    expect(await head).toMatchObject({ ok: false, reason: 'concurrency' });
    const served = await Promise.all(behind.slice(0, 2));
    expect(served.every((a) => a.ok)).toBe(true);
    expect(gate.stats()).toMatchObject({ inFlight: 2, queued: 3 });
    gate.close(); // the rest settle too: nothing is left hanging
    for (const a of await Promise.all(behind.slice(2))) expect(a).toMatchObject({ ok: false, reason: 'closed' });
  });

  it('an adaptive cut below a queued cost does the same', async () => {
    const clock = new VirtualClock();
    // AIMD halves the limit on each drop: 4 -> 2 -> 1.
    const algorithm = new AimdLimit({ initialLimit: 4, minLimit: 1, backoffRatio: 0.5 });
    const gate = new ConcurrencyGate({ clock, algorithm, maxQueue: 10 });
    const a = permit(gate.admit({ cost: 2 }));
    const b = permit(gate.admit({ cost: 2 }));
    const heavy = queued(gate.admit({ cost: 3 }));
    const light = queued(gate.admit());
    a.release('dropped'); // limit 4 -> 2; in flight 2: nothing fits yet
    b.release('dropped'); // limit 2 -> 1; the heavy head can never fit
    expect(await heavy).toMatchObject({ ok: false, reason: 'concurrency' });
    const l = await light;
    expect(l.ok).toBe(true);
    expect(gate.stats()).toMatchObject({ inFlight: 1, queued: 0, limit: 1 });
  });
});

describe('ConcurrencyGate: an already aborted caller', () => {
  it('is refused with AbortedError even when a slot is free, and takes nothing', async () => {
    const gate = new ConcurrencyGate({ clock: new VirtualClock(), limit: 2 });
    const signal = AbortSignal.abort(new Error('caller gave up'));
    const answer = gate.admit({ signal });
    expect(answer).toBeInstanceOf(Promise);
    await expect(answer).rejects.toBeInstanceOf(AbortedError);
    await expect(gate.acquire({ signal })).rejects.toBeInstanceOf(AbortedError);
    expect(gate.stats()).toMatchObject({ inFlight: 0, admitted: 0 });
    expect(gate.admit()).toMatchObject({ ok: true });
  });
});
