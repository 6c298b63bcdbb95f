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
 * second round, and the pair's order flips every round. `abba`: the pair's unit is A B B A (B A
 * A B in odd rounds), each a half cell: both sides' time centred on the same moment, so a load
 * that drifts during the unit weighs on both alike (merge the halves with {@link mergeRuns}).
 */
export function roundOrder(names: readonly string[], r: number, pair: readonly [string, string] = AB_PAIR, abba = false): string[] {
  const [a, b] = pair;
  const paired = names.includes(a) && names.includes(b);
  if (!paired) return names.map((_, i) => names[(i + r) % names.length]!);
  const units: string[][] = [];
  for (const name of names) {
    if (name === b) continue;
    const [x, y] = r % 2 === 0 ? [a, b] : [b, a];
    units.push(name !== a ? [name] : abba ? [x, y, y, x] : [x, y]);
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
 * when the order does not matter — and the rounds' quartiles (the noise).
 */
export function abRatio(a: readonly number[], b: readonly number[]): { all: number; aFirst: number; bFirst: number; q1: number; q3: number } {
  const ratios = a.map((x, r) => x / b[r]!);
  const s = [...ratios].sort((x, y) => x - y);
  const q = (f: number): number => s[Math.min(s.length - 1, Math.floor(f * s.length))] ?? NaN;
  return { all: median(ratios), aFirst: median(ratios.filter((_, r) => r % 2 === 0)), bFirst: median(ratios.filter((_, r) => r % 2 === 1)), q1: q(0.25), q3: q(0.75) };
}

/** Closed-loop runs of one side in one round (its half cells), as one run. */
export function mergeRuns<R extends { n: number; seconds: number; lat: number[]; cpuUs: number; redisUs: number }>(parts: readonly R[]): R {
  if (parts.length === 1) return parts[0]!;
  const n = parts.reduce((t, x) => t + x.n, 0);
  const per = (f: (x: R) => number): number => parts.reduce((t, x) => t + f(x) * x.n, 0) / Math.max(1, n);
  return { ...parts[0]!, n, seconds: parts.reduce((t, x) => t + x.seconds, 0), lat: parts.flatMap((x) => x.lat), cpuUs: per((x) => x.cpuUs), redisUs: per((x) => x.redisUs) };
}

function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
