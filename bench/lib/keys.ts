/** Reproducible key streams: a seeded PRNG, so every run and every contender sees the same keys. */

/** mulberry32, shared with the simulations: a 32-bit PRNG, plenty for picking keys; floats in [0, 1). */
import { seededRandom } from '../../src/sim/adaptive-random.js';

export const mulberry32 = seededRandom;

/** `count` distinct key strings, built once (the stream reuses these objects: no allocation while timing). */
export function distinctKeys(count: number, prefix = 'tenant-'): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i}`);
}

/** A stream of `length` keys drawn uniformly (with replacement) from `keys`. */
export function uniformStream(keys: readonly string[], length: number, seed: number): string[] {
  const rnd = mulberry32(seed);
  const out = new Array<string>(length);
  for (let i = 0; i < length; i++) out[i] = keys[Math.floor(rnd() * keys.length)]!;
  return out;
}
