/**
 * An exponentially weighted moving average, the one smoothing every gate uses for its
 * latency and wait estimates:
 *
 *   value' = sample                              for the first sample
 *   value' = value + alpha · (sample − value)    after it
 *
 * Seeding with the first sample (rather than 0) keeps a fresh estimate from understating by
 * (1 − alpha)^n for its first n samples. `value` is 0 until then; `count` says whether any
 * sample came.
 */
export class Ewma {
  value = 0;
  count = 0;
  /** When the last sample came (the caller's clock, ms); 0 until one did. */
  sampledAt = 0;

  /** `alpha`: the weight of a new sample, in (0, 1]. */
  constructor(readonly alpha: number) {}

  /** Fold in one sample; `at` is the caller's clock reading, kept as `sampledAt`. */
  add(sample: number, at = 0): number {
    this.value = this.count === 0 ? sample : this.value + this.alpha * (sample - this.value);
    this.count++;
    this.sampledAt = at;
    return this.value;
  }
}
