/**
 * An exponentially weighted moving average, the one smoothing every gate uses for its
 * latency and wait estimates:
 *
 *   value' = value + alpha · (sample − value)
 *
 * Seeded (the default), the first sample is taken whole (value' = sample), so a fresh
 * estimate does not understate by (1 − alpha)^n for its first n samples; unseeded, it
 * starts from 0 (a breaker whose plain-data state keeps only the value, so that a restored
 * copy answers exactly like the original). `value` is 0 until the first sample.
 */
export class Ewma {
  value = 0;
  /** Samples folded in (restore: 1 for a seeded value above 0). */
  count = 0;
  /** When the last sample came (the caller's clock, ms); 0 until one did. */
  sampledAt = 0;

  /** `alpha`: the weight of a new sample, in (0, 1]. */
  constructor(
    readonly alpha: number,
    readonly seeded = true,
  ) {}

  /** Start again from a value kept elsewhere (a snapshot). */
  restore(value: number): void {
    this.value = value;
    this.count = value > 0 ? 1 : 0;
  }

  /** Take `other`'s state (value, samples, last sample's time): the same estimate goes on here (its alpha stays this one's). */
  copyFrom(other: Ewma): void {
    this.value = other.value;
    this.count = other.count;
    this.sampledAt = other.sampledAt;
  }

  /** Fold in one sample; `at` is the caller's clock reading, kept as `sampledAt`. */
  add(sample: number, at = 0): number {
    this.value = this.seeded && this.count === 0 ? sample : this.value + this.alpha * (sample - this.value);
    this.count++;
    this.sampledAt = at;
    return this.value;
  }
}
