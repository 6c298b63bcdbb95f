// The memory store's token bucket, GCRA and sliding window on a clock set back (a user's Date.now
// stepped back by NTP, a VM restored from a snapshot, an injected clock). Before, a state
// written at a later reading locked its key out until the clock caught up — set back 50 s, a
// spent bucket of 10/s refused for 50 s with Retry-After 50 s. Now the state is brought to
// the new reading as it was (nothing refills across the jump): a refusal lasts no longer than
// after a burst spent at that reading, and a clock going back and forth admits no more than
// the time it moved forward allows.
import { describe, expect, it } from 'vitest';
import { MemoryStore, ratePolicy } from '../../src/rate/index.js';
import type { RatePolicy } from '../../src/rate/index.js';
import { SettableClock } from '../settable-clock.js';

const HOUR = 3_600_000;
const bucket = ratePolicy({ algorithm: 'token-bucket', rate: 10, perMs: 1000, burst: 10 });
const cells = ratePolicy({ algorithm: 'gcra', rate: 10, perMs: 1000, burst: 10 });
const window = ratePolicy({ algorithm: 'sliding-window', limit: 10, windowMs: 1000 });

/** Everything `key` can take at the clock's reading, one unit at a time; the last refusal's Retry-After. */
function drain(store: MemoryStore, p: RatePolicy, clock: SettableClock): { taken: number; retryAfterMs: number } {
  let taken = 0;
  for (;;) {
    const d = store.consume('k', p, 1, clock.now(), 0);
    if (!d.allowed) return { taken, retryAfterMs: d.retryAfterMs };
    taken++;
  }
}

/**
 * Drive a key for `steps` steps of 10 ms of real (base) time, the clock's offset at each step
 * from `offsetAt`, taking all it can at each: the total taken, the clock's forward movement
 * (the sum of its readings' increases), and the longest stretch of real time with nothing taken
 * since an admission or a step back (what was due before a step back is not known: the wait
 * starts again from the new reading, as after a burst spent there).
 */
function drive(p: RatePolicy, offsetAt: (i: number) => number, steps: number): { total: number; forward: number; longestDry: number; maxRetryAfter: number } {
  const clock = new SettableClock(10 * HOUR);
  const store = new MemoryStore();
  let total = 0;
  let forward = 0;
  let dryFrom = 0;
  let longestDry = 0;
  let maxRetryAfter = 0;
  let last = clock.now();
  for (let i = 0; i < steps; i++) {
    clock.offset = offsetAt(i);
    const reading = clock.now();
    if (reading > last) forward += reading - last;
    if (reading < last) dryFrom = clock.base.now();
    last = reading;
    const { taken, retryAfterMs } = drain(store, p, clock);
    total += taken;
    if (retryAfterMs > maxRetryAfter) maxRetryAfter = retryAfterMs;
    if (taken > 0) dryFrom = clock.base.now();
    else longestDry = Math.max(longestDry, clock.base.now() - dryFrom);
    clock.base.advance(10);
  }
  return { total, forward, longestDry, maxRetryAfter };
}

describe.each([
  // horizon: the longest a refusal lasts after a burst spent at one reading.
  { name: 'token bucket', p: bucket, horizon: 100, bound: (t: number) => (10 * t) / 1000 + 10 },
  // GCRA: before, its TAT alone could not tell the step back from waiting callers' reservations (refused 50 s, Retry-After 50,100 ms).
  { name: 'GCRA', p: cells, horizon: 100, bound: (t: number) => (10 * t) / 1000 + 10 },
  { name: 'sliding window', p: window, horizon: 2000, bound: (t: number) => 10 * (t / 1000 + 2) },
])('$name on a clock set back', ({ p, horizon, bound }) => {
  it('a spent key set back 50 s is refused no longer than after a burst spent now, Retry-After within it', () => {
    const clock = new SettableClock(10 * HOUR + 500);
    const store = new MemoryStore();
    expect(drain(store, p, clock).taken).toBe(10);
    clock.offset = -50_000;
    const spent = drain(store, p, clock);
    expect(spent.taken).toBe(0);
    expect(spent.retryAfterMs).toBeGreaterThan(0);
    expect(spent.retryAfterMs).toBeLessThanOrEqual(horizon);
    clock.base.advance(spent.retryAfterMs);
    expect(drain(store, p, clock).taken).toBeGreaterThanOrEqual(1);
  });

  it('the jump back gives nothing: a spent key stays spent at the earlier reading', () => {
    const clock = new SettableClock(10 * HOUR + 500);
    const store = new MemoryStore();
    drain(store, p, clock);
    for (const back of [-1, -400, -999, -5_000, -HOUR]) {
      clock.offset = back;
      expect(drain(store, p, clock).taken).toBe(0);
    }
  });

  it('a clock stepped back once and running on admits no more than rate x t + burst, and is never dry longer than the horizon', () => {
    const r = drive(p, (i) => (i < 100 ? 0 : -50_000), 1000);
    expect(r.total).toBeLessThanOrEqual(bound(10_000));
    expect(r.total).toBeGreaterThanOrEqual(75); // 10/s for 10 s, less what the step back kept
    expect(r.longestDry).toBeLessThanOrEqual(horizon + 10);
    expect(r.maxRetryAfter).toBeLessThanOrEqual(horizon);
  });

  it('a clock going back and forth admits no more than its forward movement allows, never dry longer than the horizon', () => {
    // Back 50 s, forward again, back 20 s, a small step back, ahead 3 s, ... every few steps.
    const offsets = [0, -50_000, 0, -20_000, -20_050, 3_000, -1, -HOUR];
    const r = drive(p, (i) => offsets[Math.floor(i / 37) % offsets.length]!, 2000);
    expect(r.total).toBeLessThanOrEqual(bound(r.forward));
    expect(r.longestDry).toBeLessThanOrEqual(horizon + 10);
    expect(r.maxRetryAfter).toBeLessThanOrEqual(horizon);
  });
});

describe('GCRA on a clock set back, with reservations', () => {
  it('reservations outstanding at the step back are kept: the next caller waits behind them, not behind the step', () => {
    const clock = new SettableClock(10 * HOUR);
    const store = new MemoryStore();
    const now = (): number => clock.now();
    // A burst of 10 spent, then 5 callers who wait: TAT 1.5 s ahead.
    for (let i = 0; i < 10; i++) expect(store.consume('k', cells, 1, now(), 0).allowed).toBe(true);
    const waits = Array.from({ length: 5 }, () => store.consume('k', cells, 1, now(), 1000).delayMs);
    expect(waits).toEqual([100, 200, 300, 400, 500]);
    clock.offset = -50_000;
    // 1.5 s owed at the earlier reading are owed at this one: a refusal says 600 ms (the sixth waiter's turn), not 50.6 s.
    const refused = store.consume('k', cells, 1, now(), 0);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterMs).toBeCloseTo(600, 6);
    expect(store.available('k', cells, now())).toBeCloseTo(-5, 6);
    const waiter = store.consume('k', cells, 1, now(), 1000);
    expect(waiter.allowed).toBe(true);
    expect(waiter.delayMs).toBeCloseTo(600, 6);
    // A refund at the earlier reading gives back to the same ledger: one caller's turn earlier.
    store.refund('k', cells, 1, now());
    expect(store.consume('k', cells, 1, now(), 0).retryAfterMs).toBeCloseTo(600, 6);
    // And forward again: 1.6 s later the full burst of 10 is there, no more.
    clock.base.advance(1600);
    expect(drain(store, cells, clock).taken).toBe(10);
  });
});
