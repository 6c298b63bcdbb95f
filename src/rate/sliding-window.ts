/**
 * Sliding-window counter (the approximation used by Cloudflare and nginx-style limiters):
 * fixed windows of length w aligned to clock time 0, a count for the current window and
 * one for the previous, and an estimate that assumes the previous window's requests were
 * spread evenly over it:
 *
 *   window k = floor(now / w),  elapsed = now − k·w
 *   estimate = prev · (1 − elapsed / w) + curr
 *   allow  iff  estimate + cost ≤ limit          curr' = curr + cost
 *
 * Guarantees: every admission leaves estimate ≤ limit; every fixed window admits at most
 * `limit`; any interval of length w admits less than 2·limit (the estimate can undercount
 * a previous window whose requests came late in it).
 *
 * Reservations: a waiting caller is counted in `curr` at once, which is exact only while
 * its grant falls in the same window; a wait that would end in a later window is refused
 * with its Retry-After instead.
 *
 * A clock set back: a state whose window is later than now's (win > floor(now / w)) is first
 * brought to now's window, everything it counted in its current window there — curr' =
 * min(prev + curr, max(curr, limit)), prev' = 0: the estimate is no lower than it was at the
 * last reading (nothing is given back by the jump), and no higher than a limit spent at this
 * reading (plus reservations outstanding), so a refusal waits at most what it would after a
 * burst spent now. The rewrite is kept even when the call is refused.
 *
 * A window length changed (a reload with another `windowMs`, a key whose override sets another
 * one): the state keeps the length `w` its counts were taken over, and a state of another
 * length is first brought to the policy's by the same rule — everything it counts at now under
 * its own length (prev + curr of now's window there) counted in now's window under the new
 * one, at most max(curr, limit), prev' = 0. So no tenant gets a fresh window by the change (a
 * 60 s window spent, then 10 s windows: refused until the spent count leaves, not a new 10),
 * and every unit the state still knew of counts against the new limit (10 s windows spent,
 * then 60 s: the units of the last two 10 s windows are in the 60 s one). A state without `w`
 * (written before it was kept, or by stateEncoding 'text') is taken as of the policy's length.
 */
import { decision, delayUntil } from './algorithm.js';
import type { RateAlgorithm, RateDecision } from './algorithm.js';
import type { SlidingWindowPolicy } from './policy.js';

/** Plain data: current window index `win` (floor(now / w)), its count and the previous one's, and the window length `w` they were counted over. */
export interface SlidingWindowState {
  win: number;
  prev: number;
  curr: number;
  /** The window length (ms) of `win`, `prev` and `curr`; absent: the policy's. */
  w?: number;
}

/** The state's counts as seen at window `k` (never before the state's own window). */
function prevAt(s: SlidingWindowState, k: number): number {
  return k === s.win ? s.prev : k === s.win + 1 ? s.curr : 0;
}
function currAt(s: SlidingWindowState, k: number): number {
  return k === s.win ? s.curr : 0;
}

function windowAt(s: SlidingWindowState, w: number, t: number): number {
  const k = Math.floor(t / w);
  return k > s.win ? k : s.win;
}

/** Estimated count at time `t` (the formula above), without changing the state. */
function slidingEstimate(s: SlidingWindowState, w: number, t: number): number {
  const k = windowAt(s, w, t);
  const elapsed = t - k * w;
  const frac = elapsed > 0 ? elapsed / w : 0;
  return prevAt(s, k) * (1 - frac) + currAt(s, k);
}

/**
 * Earliest time at which `room` more units fit (estimate ≤ limit − cost), assuming nobody
 * else is admitted. Solved in closed form, then nudged up past float rounding by checking
 * with the very expression `step` uses.
 */
function allowAt(s: SlidingWindowState, w: number, k: number, room: number): number {
  const prev = prevAt(s, k);
  const curr = currAt(s, k);
  let t: number;
  if (curr <= room && prev > 0 && 1 - (room - curr) / prev < 1) {
    t = k * w + w * (1 - (room - curr) / prev);
  } else if (curr <= room) {
    t = (k + 1) * w;
  } else {
    t = (k + 1) * w + w * (1 - room / curr);
  }
  let step = Math.max(Math.abs(t) * Number.EPSILON, Number.MIN_VALUE);
  for (let i = 0; i < 1100 && slidingEstimate(s, w, t) > room; i++) {
    t += step;
    step *= 2;
  }
  return t;
}

/** A state from a later window than now's (the clock went back) brought to now's window; whether it was. */
function rebase(s: SlidingWindowState, p: SlidingWindowPolicy, now: number): boolean {
  const k = Math.floor(now / p.windowMs);
  if (s.win <= k) return false;
  const all = s.prev + s.curr;
  const cap = s.curr > p.limit ? s.curr : p.limit;
  s.win = k;
  s.curr = all < cap ? all : cap;
  s.prev = 0;
  return true;
}

/**
 * A state counted over another window length than the policy's brought to the policy's (the
 * rule above); whether it was. `k0` is now's window under the state's own length — or its own
 * window, when that is later (the clock went back): all of it counts then.
 */
function reshape(s: SlidingWindowState, p: SlidingWindowPolicy, now: number): boolean {
  const w0 = s.w;
  if (w0 === undefined || w0 === p.windowMs) return false;
  let k0 = Math.floor(now / w0);
  if (k0 < s.win) k0 = s.win;
  const curr = currAt(s, k0);
  const all = prevAt(s, k0) + curr;
  const cap = curr > p.limit ? curr : p.limit;
  s.win = Math.floor(now / p.windowMs);
  s.curr = all < cap ? all : cap;
  s.prev = 0;
  s.w = p.windowMs;
  return true;
}

function resetMs(prev: number, curr: number, k: number, w: number, now: number): number {
  return curr > 0 ? (k + 2) * w - now : prev > 0 ? (k + 1) * w - now : 0;
}

export const slidingWindow: RateAlgorithm<SlidingWindowPolicy, SlidingWindowState> = {
  algorithm: 'sliding-window',

  fresh(p, now) {
    return { win: Math.floor(now / p.windowMs), prev: 0, curr: 0, w: p.windowMs };
  },

  isState(s): s is SlidingWindowState {
    return (s as Partial<SlidingWindowState>).win !== undefined;
  },

  step(s, p, cost, now, maxDelayMs): RateDecision {
    reshape(s, p, now);
    rebase(s, p, now);
    const w = p.windowMs;
    const limit = p.limit;
    const k = windowAt(s, w, now);
    const prev = prevAt(s, k);
    let curr = currAt(s, k);
    const est = slidingEstimate(s, w, now);
    if (cost > limit) return decision(p.name, limit, limit - est, w, resetMs(prev, curr, k, w, now), false, 0, Infinity);
    let delay = 0;
    if (est + cost > limit) {
      const at = allowAt(s, w, k, limit - cost);
      delay = delayUntil(at, now);
      // Counting the reservation in `curr` now is exact only if it is granted in this window.
      if (delay > maxDelayMs || Math.floor(at / w) !== k) {
        return decision(p.name, limit, limit - est, w, resetMs(prev, curr, k, w, now), false, 0, delay);
      }
    }
    curr += cost;
    s.win = k;
    s.prev = prev;
    s.curr = curr;
    s.w = w;
    return decision(p.name, limit, limit - est - cost, w, resetMs(prev, curr, k, w, now), true, delay, 0);
  },

  refund(s, p, cost, now) {
    reshape(s, p, now);
    rebase(s, p, now);
    const k = windowAt(s, p.windowMs, now);
    let prev = prevAt(s, k);
    let curr = currAt(s, k);
    // A reservation is counted in the window it was made in: take from there first.
    const fromCurr = cost < curr ? cost : curr;
    curr -= fromCurr;
    prev = Math.max(0, prev - (cost - fromCurr));
    s.win = k;
    s.prev = prev;
    s.curr = curr;
    s.w = p.windowMs;
  },

  available(s, p, now) {
    if (s.w !== undefined && s.w !== p.windowMs) {
      const x = { ...s };
      reshape(x, p, now);
      return p.limit - slidingEstimate(x, p.windowMs, now);
    }
    return p.limit - slidingEstimate(s, p.windowMs, now);
  },

  idleAt(s, p) {
    return (s.win + 2) * (s.w ?? p.windowMs);
  },

  cover(into, other, p, now) {
    // Both in now's window (or a later one, the clock gone back) under the policy's length; the
    // estimate grows with prev and with curr, so the larger of each is above both, now and later.
    const a = { ...into };
    const b = { ...other };
    for (const x of [a, b]) {
      reshape(x, p, now);
      rebase(x, p, now);
    }
    const k = Math.max(a.win, b.win, Math.floor(now / p.windowMs));
    into.win = k;
    into.prev = Math.max(prevAt(a, k), prevAt(b, k));
    into.curr = Math.max(currAt(a, k), currAt(b, k));
    into.w = p.windowMs;
  },

  rank(s, p) {
    // When the estimate falls under one unit (then the state is all but idle): in the window
    // after its own for a current count (curr · (1 − f) < 1), in its own for a previous one.
    const w = s.w ?? p.windowMs;
    if (s.curr > 0) return (s.win + 2) * w - w / (s.curr > 1 ? s.curr : 1);
    if (s.prev > 0) return (s.win + 1) * w - w / (s.prev > 1 ? s.prev : 1);
    return s.win * w;
  },
};
