/** What the adaptive simulation measures per phase, and how (one place for the definitions). */

/** Counters of one phase's steady-state window (the last `steadyMs` of the phase). */
export class SteadyWindow {
  offered = 0;
  rejected = 0;
  completed = 0;
  /** Completed within the client's timeout: the client got its answer. */
  good = 0;
  latencies: number[] = [];
  constructor(
    readonly from: number,
    readonly to: number,
  ) {}

  contains(t: number): boolean {
    return t >= this.from && t < this.to;
  }
}

/** The limit the gate enforced, sampled at a fixed period. */
export interface Trace {
  readonly t: number[];
  readonly limit: number[];
}

/**
 * Time from `from` until the limit enters [0.9, 1.1] × knee and stays there up to `to`, ms;
 * null when it is outside the band at the end (not converged within the phase).
 */
export function convergeMs(trace: Trace, from: number, to: number, knee: number, band = 0.1): number | null {
  let lastOut = -1;
  let first = -1;
  let last = -1;
  for (let i = 0; i < trace.t.length; i++) {
    const t = trace.t[i]!;
    if (t < from || t >= to) continue;
    if (first < 0) first = i;
    last = i;
    const l = trace.limit[i]!;
    if (l < knee * (1 - band) || l > knee * (1 + band)) lastOut = i;
  }
  if (first < 0) return null;
  if (lastOut < 0) return 0;
  if (lastOut === last) return null;
  return trace.t[lastOut + 1]! - from;
}

/**
 * Mean, min, max and least-squares slope (per second) of the traced limit in [from, to).
 * The slope separates a drift from an oscillation, which (max − min) / mean alone conflates.
 */
export function limitStats(trace: Trace, from: number, to: number): { mean: number; min: number; max: number; slopePerSec: number } {
  let n = 0;
  let sumT = 0;
  let sumL = 0;
  let sumTT = 0;
  let sumTL = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < trace.t.length; i++) {
    const t = trace.t[i]!;
    if (t < from || t >= to) continue;
    const l = trace.limit[i]!;
    const x = (t - from) / 1000;
    n++;
    sumT += x;
    sumL += l;
    sumTT += x * x;
    sumTL += x * l;
    if (l < min) min = l;
    if (l > max) max = l;
  }
  if (n === 0) return { mean: NaN, min: NaN, max: NaN, slopePerSec: NaN };
  const denom = n * sumTT - sumT * sumT;
  return { mean: sumL / n, min, max, slopePerSec: denom === 0 ? 0 : (n * sumTL - sumT * sumL) / denom };
}

/** Nearest-rank quantile; sorts in place. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.max(0, Math.ceil(q * values.length) - 1))]!;
}
