// A sliding window whose length changes under a key mid-window — a reload with another window,
// a key whose override sets another one. The state keeps the length it counted over; a state of
// another length is brought to the policy's first: everything it counts at that moment, under
// its own length, is counted in the new window (at most max(its current count, the limit)).
// Before, the window index of a 60 s state read under 10 s windows was six times too small: the
// state read as idle and a tenant that had spent its 10 got a fresh 10 at once.
import { describe, expect, it } from 'vitest';
import { KeyedRateLimiter, MemoryStore, ratePolicy } from '../../src/rate/index.js';
import type { RatePolicy } from '../../src/rate/index.js';
import { SettableClock } from '../settable-clock.js';

const T0 = 1_764_000_000_000 + 30_000; // 30 s into a 60 s window (and 0 into a 10 s one)
const minute10 = ratePolicy({ algorithm: 'sliding-window', limit: 10, windowMs: 60_000, name: 'w' });
const tenS10 = ratePolicy({ algorithm: 'sliding-window', limit: 10, windowMs: 10_000, name: 'w' });
const minute60 = ratePolicy({ algorithm: 'sliding-window', limit: 60, windowMs: 60_000, name: 'w' });

/** Units of cost 1 admitted for `key` at `now`, up to `max` tries. */
function take(store: MemoryStore, p: RatePolicy, now: number, max = 100, key = 'k'): number {
  let n = 0;
  for (let i = 0; i < max; i++) if (store.consume(key, p, 1, now, 0).allowed) n++;
  return n;
}

describe('sliding window: the window length changed mid-window', () => {
  it('shortened (60 s -> 10 s, limit 10 both): the spent 10 still count — no fresh window — and leave as the new window slides', () => {
    const m = new MemoryStore();
    expect(take(m, minute10, T0)).toBe(10);
    // Before: 10 (the 60 s state read as idle under 10 s windows).
    expect(take(m, tenS10, T0 + 1000)).toBe(0);
    // The 10 sit in the 10 s window the change fell in; the next window sees them as its
    // previous one's, weighed by what is left of it: none admitted at its start, all by its end.
    expect(take(m, tenS10, T0 + 10_000)).toBe(0);
    expect(take(m, tenS10, T0 + 15_000)).toBe(5);
    expect(take(m, tenS10, T0 + 30_000)).toBe(10);
  });

  it('lengthened (10 s -> 60 s, limit 10 -> 60): what the short windows counted is in the long one', () => {
    const m = new MemoryStore();
    expect(take(m, tenS10, T0)).toBe(10);
    expect(take(m, tenS10, T0 + 10_000)).toBe(0);
    expect(take(m, tenS10, T0 + 15_000)).toBe(5);
    // 15 units in the last 15 s: 45 more within the 60 s limit.
    expect(take(m, minute60, T0 + 16_000)).toBe(45);
  });

  it('back and forth within one window gives nothing back', () => {
    const m = new MemoryStore();
    expect(take(m, minute10, T0, 4)).toBe(4);
    expect(take(m, tenS10, T0 + 100, 3)).toBe(3);
    expect(take(m, minute10, T0 + 200)).toBe(3);
    expect(take(m, tenS10, T0 + 300)).toBe(0);
  });

  it('refund and available read the state under the policy in use', () => {
    const m = new MemoryStore();
    expect(take(m, minute10, T0)).toBe(10);
    expect(m.available('k', tenS10, T0 + 1000)).toBe(0);
    m.refund('k', tenS10, 2, T0 + 1000);
    expect(m.available('k', tenS10, T0 + 1000)).toBe(2);
    expect(take(m, tenS10, T0 + 1000)).toBe(2);
  });

  it('through KeyedRateLimiter: a key whose override changes its window keeps what it spent', async () => {
    const clock = new SettableClock(T0);
    let plan: 'monthly' | 'burst' = 'monthly';
    const lim = new KeyedRateLimiter({
      name: 'w',
      clock,
      policy: { algorithm: 'sliding-window', limit: 10, windowMs: 60_000 },
      overrides: (key) => (key === 'acme' && plan === 'burst' ? { algorithm: 'sliding-window', limit: 10, windowMs: 10_000 } : undefined),
    });
    const count = async (): Promise<number> => {
      let n = 0;
      for (let i = 0; i < 20; i++) if ((await lim.admit({ key: 'acme' })).ok) n++;
      return n;
    };
    expect(await count()).toBe(10);
    plan = 'burst';
    clock.offset += 1000;
    // Before: 10.
    expect(await count()).toBe(0);
  });
});
