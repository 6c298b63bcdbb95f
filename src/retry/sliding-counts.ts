/**
 * Counters over a sliding window of the clock, in buckets: bucket k covers [k·w, (k+1)·w),
 * w = windowMs / buckets, and the window is the current bucket plus the buckets − 1 before
 * it. O(1) amortized per operation (expired buckets are cleared as time passes, with
 * running totals). Several series share one bucket grid (requests and retries, requests
 * and accepts).
 */
export class SlidingCounts {
  readonly bucketMs: number;
  readonly #buckets: number;
  readonly #series: number;
  readonly #counts: Float64Array;
  readonly #totals: Float64Array;
  #epoch: number;

  constructor(windowMs: number, buckets: number, series: number, now: number) {
    this.bucketMs = windowMs / buckets;
    this.#buckets = buckets;
    this.#series = series;
    this.#counts = new Float64Array(buckets * series);
    this.#totals = new Float64Array(series);
    this.#epoch = Math.floor(now / this.bucketMs);
  }

  /** Add `n` to a series now; returns the bucket epoch it went to (for {@link remove}). */
  add(series: number, n: number, now: number): number {
    const slot = this.#advance(now);
    this.#counts[slot * this.#series + series]! += n;
    this.#totals[series]! += n;
    return this.#epoch;
  }

  /** Take back `n` added at `epoch`, if that bucket is still in the window. */
  remove(series: number, n: number, epoch: number, now: number): void {
    this.#advance(now);
    if (epoch > this.#epoch || epoch <= this.#epoch - this.#buckets) return;
    const i = this.#slot(epoch) * this.#series + series;
    const take = Math.min(n, this.#counts[i]!);
    this.#counts[i]! -= take;
    this.#totals[series]! -= take;
  }

  /** The series' total over the window ending now. */
  total(series: number, now: number): number {
    this.#advance(now);
    return this.#totals[series]!;
  }

  #slot(epoch: number): number {
    return ((epoch % this.#buckets) + this.#buckets) % this.#buckets;
  }

  #advance(now: number): number {
    const e = Math.floor(now / this.bucketMs);
    if (e > this.#epoch) {
      const steps = Math.min(e - this.#epoch, this.#buckets);
      for (let k = 1; k <= steps; k++) {
        const base = this.#slot(this.#epoch + k) * this.#series;
        for (let s = 0; s < this.#series; s++) {
          this.#totals[s]! -= this.#counts[base + s]!;
          this.#counts[base + s] = 0;
        }
      }
      this.#epoch = e;
    } else if (e <= this.#epoch - this.#buckets) {
      // The clock went back a whole window or more: what the window holds would stay until the
      // clock caught up (set back an hour: an hour). From the new reading it ages out instead,
      // a bucket per bucket of time, all of it within one window. A smaller step back counts
      // in the newest bucket (held at most that step longer).
      this.#epoch = e;
    }
    return this.#slot(this.#epoch);
  }
}
