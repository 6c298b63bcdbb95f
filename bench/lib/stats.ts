/** Robust summaries of a handful of rounds: median and median absolute deviation. */

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median absolute deviation from the median; robust to one slow round (a GC, a noisy neighbour). */
export function mad(xs: readonly number[]): number {
  const m = median(xs);
  return median(xs.map((x) => Math.abs(x - m)));
}

export interface Summary {
  readonly median: number;
  /** MAD as a fraction of the median. */
  readonly spread: number;
  readonly min: number;
  readonly max: number;
  readonly samples: readonly number[];
}

export function summarize(xs: readonly number[]): Summary {
  const m = median(xs);
  return { median: m, spread: m === 0 ? 0 : mad(xs) / m, min: Math.min(...xs), max: Math.max(...xs), samples: xs };
}

/**
 * Ratio of two contenders measured in the same rounds: the median of the per-round ratios
 * a[i] / b[i]. Pairing by round cancels slow drift (thermal, a neighbour's load) that would
 * otherwise move one contender's median and not the other's.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): Summary {
  const n = Math.min(a.length, b.length);
  const r: number[] = [];
  for (let i = 0; i < n; i++) r.push(a[i]! / b[i]!);
  return summarize(r);
}
