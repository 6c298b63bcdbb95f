/**
 * GCRA, the generic cell rate algorithm (ITU-T I.371, virtual scheduling form): the leaky
 * bucket as a meter. The whole state is one number, the theoretical arrival time TAT.
 *
 *   emission interval  T = perMs / rate          tolerance  τ = T · (burst − 1)
 *   allow (cost 1)     iff  TAT − τ ≤ now
 *   on allow           TAT' = max(TAT, now) + cost · T
 *
 * A request of cost c is c back-to-back cells at one instant, all or none: it passes iff
 * max(TAT, now) + c·T − T − τ ≤ now, i.e. iff TAT + (c − 1)·T − τ = TAT − (burst − c)·T ≤ now
 * (given c ≤ burst).
 * A cost above burst can never pass. Same admissions as a token bucket of the same rate
 * and burst, with less state.
 *
 * Reservations move TAT forward at once (a caller waits until the moment its cells were
 * scheduled); a refund moves it back, never below now.
 *
 * A clock set back: TAT alone cannot tell a clock set back from reservations of waiting
 * callers, so the state keeps `last`, the reading it was written at. A state with last > now
 * is first brought to now as it was — TAT' = now + max(0, TAT − last), last' = now: what it
 * owed at its last reading it owes now (nothing refills across the jump), and a refusal waits
 * no longer than after a burst spent at this reading (plus reservations outstanding). The
 * rewrite is kept even when the call is refused, as the token bucket's.
 */
import { decision, delayUntil } from './algorithm.js';
import type { RateAlgorithm, RateDecision } from './algorithm.js';
import type { GcraPolicy } from './policy.js';

/** Plain data: the theoretical arrival time, clock ms (at or before now: the full burst is available), and the reading it was written at. */
export interface GcraState {
  tat: number;
  /** The clock reading of the last write; a later one than now means the clock went back. */
  last: number;
}

/** A state from a later reading than now (the clock went back) brought to now, owing what it owed then. */
function rebase(s: GcraState, now: number): void {
  const owed = s.tat - s.last;
  s.tat = owed > 0 ? now + owed : now;
  s.last = now;
}

export const gcra: RateAlgorithm<GcraPolicy, GcraState> = {
  algorithm: 'gcra',

  fresh(_p, now) {
    return { tat: now, last: now };
  },

  isState(s): s is GcraState {
    return (s as Partial<GcraState>).tat !== undefined;
  },

  step(s, p, cost, now, maxDelayMs): RateDecision {
    if (s.last > now) rebase(s, now);
    const T = p.perMs / p.rate;
    const b = p.burst;
    const tat = s.tat > now ? s.tat : now;
    if (cost > b) return decision(p.name, b, b - (tat - now) / T, b * T, tat - now, false, 0, Infinity);
    // TAT + (c − 1)·T − τ, written so that c = burst on a full bucket gives exactly TAT (no float residue).
    const at = s.tat - (b - cost) * T;
    let delay = 0;
    if (at > now) {
      delay = delayUntil(at, now);
      if (delay > maxDelayMs) return decision(p.name, b, b - (tat - now) / T, b * T, tat - now, false, 0, delay);
    }
    const next = tat + cost * T;
    s.tat = next;
    s.last = now;
    return decision(p.name, b, b - (next - now) / T, b * T, next - now, true, delay, 0);
  },

  refund(s, p, cost, now) {
    if (s.last > now) rebase(s, now);
    const t = s.tat - (cost * p.perMs) / p.rate;
    s.tat = t > now ? t : now;
    s.last = now;
  },

  available(s, p, now) {
    // A state from a later reading owes at now what it owed then (see rebase).
    const tat = s.last > now ? now + (s.tat > s.last ? s.tat - s.last : 0) : s.tat;
    return tat > now ? p.burst - ((tat - now) * p.rate) / p.perMs : p.burst;
  },

  idleAt(s) {
    return s.tat;
  },

  cover(into, other, _p, now) {
    // A later TAT is more used now and ever after; each as rebased to now (the clock went back).
    const a = into.last > now ? now + Math.max(0, into.tat - into.last) : into.tat;
    const b = other.last > now ? now + Math.max(0, other.tat - other.last) : other.tat;
    into.tat = a > b ? a : b;
    into.last = now;
  },

  rank(s) {
    return s.tat;
  },
};
