/** Seeded randomness for the adaptive simulation, so every run gives the same table. */

/** mulberry32: a small, fast 32-bit PRNG; uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Arrival process: the gap to the next arrival, ms, at `perMs` arrivals per ms. */
export type Arrivals = 'poisson' | 'constant';

export function nextGap(kind: Arrivals, perMs: number, random: () => number): number {
  if (perMs <= 0) return Infinity;
  // Inverse transform of the exponential distribution; 1 - u is in (0, 1], so the log is finite.
  return kind === 'constant' ? 1 / perMs : -Math.log(1 - random()) / perMs;
}
