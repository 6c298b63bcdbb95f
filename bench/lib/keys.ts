/** Reproducible key streams: a seeded PRNG, so every run and every contender sees the same keys. */

/** mulberry32: a 32-bit PRNG, plenty for picking keys. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
