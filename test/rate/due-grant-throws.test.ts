// A waiter whose units come due is granted from the gate's timer; should that grant throw (the
// caller's context read by the admit event: a key getter that fails by then), the waiter must
// hear the error — not be left unsettled with the error thrown into the timer (an uncaught
// exception in a real process) — and the waiters behind it go on.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import type { AdmissionContext } from '../../src/core/index.js';
import { SlidingWindow } from '../../src/rate/index.js';

describe('a rate waiter whose grant throws when due', () => {
  it('rejects with that error; the timer does not throw; the next waiter is granted', async () => {
    const clock = new VirtualClock();
    clock.advanceTo(10_000);
    const gate = new SlidingWindow({ limit: 3, windowMs: 1000, maxWaitMs: 60_000, clock });
    gate.on(() => undefined);
    for (let i = 0; i < 3; i++) gate.tryAdmit();
    clock.advanceTo(11_000); // window 11: units come due one by one in it
    let armed = false;
    const ctx = {
      get key(): string | undefined {
        if (armed) throw new Error('key getter failed');
        return undefined;
      },
    } as AdmissionContext;
    const first = gate.admit(ctx) as Promise<unknown>;
    const second = gate.admit() as Promise<unknown>;
    expect(first).toBeInstanceOf(Promise);
    expect(second).toBeInstanceOf(Promise);
    const heard = first.then(
      () => 'granted',
      (err: Error) => err.message,
    );
    let granted: unknown;
    void second.then((a) => (granted = a));
    armed = true;
    expect(() => clock.advance(1000)).not.toThrow();
    expect(await heard).toBe('key getter failed');
    await new Promise((r) => setImmediate(r));
    expect(granted).toMatchObject({ ok: true });
  });
});
