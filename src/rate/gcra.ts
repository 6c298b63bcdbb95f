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
 */
import { decision, delayUntil } from './algorithm.js';
import type { RateAlgorithm, RateDecision } from './algorithm.js';
import type { GcraPolicy } from './policy.js';

/** Plain data: the theoretical arrival time, clock ms. At or before now: the full burst is available. */
export interface GcraState {
  tat: number;
}

export const gcra: RateAlgorithm<GcraPolicy, GcraState> = {
  algorithm: 'gcra',

  fresh(_p, now) {
    return { tat: now };
  },

  isState(s): s is GcraState {
    return (s as Partial<GcraState>).tat !== undefined;
  },

  step(s, p, cost, now, maxDelayMs): RateDecision {
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
    return decision(p.name, b, b - (next - now) / T, b * T, next - now, true, delay, 0);
  },

  refund(s, p, cost, now) {
    const t = s.tat - (cost * p.perMs) / p.rate;
    s.tat = t > now ? t : now;
  },

  available(s, p, now) {
    return s.tat > now ? p.burst - ((s.tat - now) * p.rate) / p.perMs : p.burst;
  },

  idleAt(s) {
    return s.tat;
  },
};
