/**
 * M10, signal latency: how long overload goes unanswered. Per gate, an episode opens at the
 * first sample at which demand meets the gate's capacity after a calm spell — waiters in its
 * queue, in flight at or above its limit, or a rate gate out of tokens — and is answered at
 * the first sample showing a reaction: a refusal counted since the onset, or a limit other
 * than the one in force at the onset (an adaptive limit moving). The time between, in
 * seconds, is the signal latency. An episode that calms without a reaction is forgotten (the
 * gate absorbed the burst; nothing was overloaded). A refusal first seen with no saturation
 * before it counts as 0: the gate reacted within one sample. Sampled, so a figure is exact to
 * one sample period; the sampler owns the period and the clock.
 */
import type { GateStats } from '../core/types.js';

type Episode = { readonly onset: number; readonly rejected: number; readonly limit: number } | 'answered';

export interface SignalLatencySample {
  readonly gate: string;
  readonly kind: string;
  readonly seconds: number;
}

function refusals(s: GateStats): number {
  let n = 0;
  for (const v of Object.values(s.rejected)) n += v;
  return n;
}

/** Demand at or beyond what the gate lets through now. */
export function saturated(s: GateStats): boolean {
  if (s.queued > 0) return true;
  if (s.tokens !== undefined) return s.tokens < 1;
  return Number.isFinite(s.limit) && s.limit > 0 && s.inFlight >= s.limit;
}

export class SignalLatency {
  readonly #episodes = new Map<string, Episode>();
  readonly #refused = new Map<string, number>();

  /**
   * One sample of every gate at `nowMs`: returns the episodes answered since the last
   * sample. Gates not seen in a sample are forgotten (bounded by the gates that exist).
   */
  sample(gates: Iterable<GateStats>, nowMs: number): SignalLatencySample[] {
    const out: SignalLatencySample[] = [];
    const seen = new Set<string>();
    for (const s of gates) {
      const id = `${s.kind}\0${s.name}`;
      seen.add(id);
      const rejected = refusals(s);
      const before = this.#refused.get(id);
      this.#refused.set(id, rejected);
      const e = this.#episodes.get(id);
      const full = saturated(s);
      if (e === undefined) {
        // Calm until now. A refusal since the last sample with no saturation seen: answered within one sample.
        if (before !== undefined && rejected > before) {
          out.push({ gate: s.name, kind: s.kind, seconds: 0 });
          this.#episodes.set(id, 'answered');
        } else if (full) {
          this.#episodes.set(id, { onset: nowMs, rejected, limit: s.limit });
        }
        continue;
      }
      if (e === 'answered') {
        if (!full && rejected === before) this.#episodes.delete(id);
        continue;
      }
      if (rejected > e.rejected || s.limit !== e.limit) {
        out.push({ gate: s.name, kind: s.kind, seconds: Math.max(0, nowMs - e.onset) / 1000 });
        this.#episodes.set(id, 'answered');
      } else if (!full) {
        this.#episodes.delete(id);
      }
    }
    for (const id of this.#refused.keys()) {
      if (!seen.has(id)) {
        this.#refused.delete(id);
        this.#episodes.delete(id);
      }
    }
    return out;
  }

  /** Gates with an episode open or answered and not yet calm. */
  get open(): number {
    return this.#episodes.size;
  }
}
