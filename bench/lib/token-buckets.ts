/**
 * The floor for the keyed rate suite: a Map of token buckets, nothing else. No store
 * interface, no eviction, no policy facts, no Retry-After, no events, no stats.
 *   tokens(now) = min(burst, tokens + (now - last) * ratePerMs); allow iff tokens >= 1
 */
interface Bucket {
  tokens: number;
  last: number;
}

export class TokenBucketMap {
  readonly #buckets = new Map<string, Bucket>();

  constructor(
    readonly burst: number,
    readonly ratePerMs: number,
  ) {}

  get size(): number {
    return this.#buckets.size;
  }

  take(key: string): boolean {
    const now = performance.now();
    let b = this.#buckets.get(key);
    if (b === undefined) {
      b = { tokens: this.burst, last: now };
      this.#buckets.set(key, b);
    } else {
      const t = b.tokens + (now - b.last) * this.ratePerMs;
      b.tokens = t < this.burst ? t : this.burst;
      b.last = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
