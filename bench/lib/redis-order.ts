/**
 * The order of bench:redis's contenders in each round, and the A/B of `--base`.
 *
 * Contenders take turns in one process, so each cell inherits the state its predecessor left:
 * garbage to collect, a warm or cold inline cache, Redis's memory. A plain rotation (round r
 * starts at contender r) gives every contender ONE fixed predecessor: with `--base`, sluice
 * always ran right after sluice-base, and two copies of the same code read 0.85x at 1 caller
 * (bench/results/redis-lean-90a7a17-busy.md). So the pair under A/B runs back to back, in
 * both orders: rounds go in twos, the same rotation of the others, A then B in the even round
 * and B then A in the odd one. Each side is first as often as second and follows the same
 * predecessors; the ratio of a round compares cells seconds apart.
 */

/** The pair compared with --base: this checkout's sluice and the other's. */
export const AB_PAIR = ['sluice', 'sluice-base'] as const;

/**
 * The order of round `r`. Without both of `pair` among `names`: the rotation (round r starts at
 * name r). With them: the pair is one unit at its first member's place, the units rotate every
 * second round, and the pair's order flips every round.
 */
export function roundOrder(names: readonly string[], r: number, pair: readonly [string, string] = AB_PAIR): string[] {
  const [a, b] = pair;
  const paired = names.includes(a) && names.includes(b);
  if (!paired) return names.map((_, i) => names[(i + r) % names.length]!);
  const units: string[][] = [];
  for (const name of names) {
    if (name === b) continue;
    units.push(name === a ? (r % 2 === 0 ? [a, b] : [b, a]) : [name]);
  }
  const shift = Math.floor(r / 2);
  return units.map((_, i) => units[(i + shift) % units.length]!).flat();
}

/** Rounds for an A/B: an even number, so each side of the pair is first in as many rounds. */
export function abRounds(rounds: number, names: readonly string[], pair: readonly [string, string] = AB_PAIR): number {
  return names.includes(pair[0]) && names.includes(pair[1]) && rounds % 2 === 1 ? rounds + 1 : rounds;
}

/**
 * A ÷ B per round (`a[r] / b[r]`), summarized: the median of all rounds, and the medians of the
 * rounds where A ran first (even rounds) and where B ran first (odd) — the two should agree
 * when the order does not matter.
 */
export function abRatio(a: readonly number[], b: readonly number[]): { all: number; aFirst: number; bFirst: number } {
  const ratios = a.map((x, r) => x / b[r]!);
  return { all: median(ratios), aFirst: median(ratios.filter((_, r) => r % 2 === 0)), bFirst: median(ratios.filter((_, r) => r % 2 === 1)) };
}

function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
