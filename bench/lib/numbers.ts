/** Figures as the bench reports print them. */

export function round1(x: number): number {
  return Number(x.toFixed(1));
}

export function round2(x: number): number {
  return Number(x.toFixed(2));
}

export function round3(x: number): number {
  return Number(x.toFixed(3));
}

/** `a` as a whole percentage of `b`: "42%". */
export function pct(a: number, b: number): string {
  return `${((100 * a) / b).toFixed(0)}%`;
}
