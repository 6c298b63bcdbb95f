import { describe, expect, it } from 'vitest';
import { AbortedError, VirtualClock } from '../../src/core/index.js';
import type { Admission, Permit } from '../../src/core/index.js';
import { Pacer } from '../../src/http-client/index.js';
import type { ServerQuota } from '../../src/http-client/index.js';

const quota = (remaining: number, resetMs: number | undefined, extra: Partial<ServerQuota> = {}): ServerQuota => ({
  policy: 'p',
  remaining,
  resetMs,
  limit: undefined,
  windowMs: undefined,
  unit: 'requests',
  source: 'draft',
  ...extra,
});

function permit(a: Admission | Promise<Admission>): Permit {
  if (a instanceof Promise || !a.ok) throw new Error('expected an immediate permit');
  return a;
}

describe('Pacer', () => {
  it('admits everything until a response says something', () => {
    const pacer = new Pacer({ clock: new VirtualClock() });
    for (let i = 0; i < 100; i++) permit(pacer.admit()).release();
    expect(pacer.stats()).toMatchObject({ admitted: 100, remaining: Infinity, tokens: undefined });
  });

  it('counts its own grants against r, then holds until t has elapsed', async () => {
    const clock = new VirtualClock();
    const pacer = new Pacer({ clock });
    const first = permit(pacer.admit());
    const second = permit(pacer.admit()); // sent before the first answer arrived
    pacer.observe(first, [quota(3, 1_000)], undefined);
    expect(pacer.stats().remaining).toBe(2); // r = 3 counted the first; the second also spends one
    pacer.observe(second, [quota(2, 1_000)], undefined);
    permit(pacer.admit());
    permit(pacer.admit());
    expect(pacer.stats().remaining).toBe(0);
    const waiting = pacer.admit();
    expect(waiting).toBeInstanceOf(Promise);
    let got: Admission | undefined;
    void (waiting as Promise<Admission>).then((a) => (got = a));
    await clock.tick(999);
    expect(got).toBeUndefined();
    await clock.tick(1);
    expect(got).toMatchObject({ ok: true });
    // No quota known: after the reset it stops pacing.
    expect(pacer.stats().remaining).toBe(Infinity);
  });

  it('starts a fresh window of q requests per w when the policy is known', () => {
    const clock = new VirtualClock();
    const pacer = new Pacer({ clock });
    const p = permit(pacer.admit());
    pacer.observe(p, [quota(0, 500, { limit: 2, windowMs: 1_000 })], undefined);
    expect(pacer.admit()).toBeInstanceOf(Promise);
    clock.advance(500);
    expect(pacer.stats()).toMatchObject({ remaining: 1, tokens: 1, limit: 2 }); // one went to the waiter at the reset
  });

  it('refuses at once, with the exact wait, a caller whose deadline ends before the hold', () => {
    const clock = new VirtualClock();
    const pacer = new Pacer({ clock });
    const p = permit(pacer.admit());
    pacer.observe(p, [quota(0, 2_000, { limit: 10, windowMs: 60_000 })], undefined);
    const a = pacer.admit({ deadline: 1_000 });
    expect(a).toMatchObject({ ok: false, reason: 'rate_limited', retryAfterMs: 2_000, facts: { policy: 'p', limit: 10, remaining: 0, windowMs: 60_000, resetMs: 2_000 } });
    expect(pacer.stats().rejected.rate_limited).toBe(1);
  });

  it('holds everyone for a Retry-After, capped at maxHoldMs; stale responses only bring their Retry-After', async () => {
    const clock = new VirtualClock();
    const pacer = new Pacer({ clock, maxHoldMs: 5_000 });
    const a = permit(pacer.admit());
    const b = permit(pacer.admit());
    pacer.observe(b, [quota(10, 1_000)], undefined);
    pacer.observe(a, [quota(0, 1_000)], 3_600_000); // older than b: its r is stale, its Retry-After is not
    expect(pacer.stats()).toMatchObject({ remaining: 10, holdMs: 5_000 });
    expect(pacer.admit({ maxWaitMs: 4_999 })).toMatchObject({ ok: false, retryAfterMs: 5_000 });
    const w = pacer.admit({ maxWaitMs: 5_000 }) as Promise<Admission>;
    await clock.tick(5_000);
    await expect(w).resolves.toMatchObject({ ok: true });
  });

  it('a waiter times out at its deadline, aborts at once, and close settles the rest', async () => {
    const clock = new VirtualClock();
    const pacer = new Pacer({ clock });
    pacer.observe(permit(pacer.admit()), [quota(0, 10_000)], undefined);
    const timed = pacer.admit({ maxWaitMs: 20_000 }) as Promise<Admission>;
    const ac = new AbortController();
    const aborted = pacer.admit({ signal: ac.signal }) as Promise<Admission>;
    const closed = pacer.admit() as Promise<Admission>;
    ac.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortedError);
    expect(pacer.stats().queued).toBe(2);
    pacer.close();
    await expect(timed).resolves.toMatchObject({ ok: false, reason: 'closed' });
    await expect(closed).resolves.toMatchObject({ ok: false, reason: 'closed' });
    expect(clock.pendingTimers).toBe(0);
  });

  it('paces only by quotas counted in requests', () => {
    const pacer = new Pacer({ clock: new VirtualClock() });
    pacer.observe(permit(pacer.admit()), [quota(0, 60_000, { unit: 'content-bytes' })], undefined);
    expect(pacer.admit()).toMatchObject({ ok: true });
  });
});
