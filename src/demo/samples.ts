/** A growable list of latency samples (ms) and its percentiles. */
export class Samples {
  #data = new Float64Array(1024);
  #n = 0;

  get count(): number {
    return this.#n;
  }

  add(ms: number): void {
    if (this.#n === this.#data.length) {
      const grown = new Float64Array(this.#data.length * 2);
      grown.set(this.#data);
      this.#data = grown;
    }
    this.#data[this.#n++] = ms;
  }

  /** Percentiles (nearest rank) for each of `ps` in [0, 100]; NaN when there are no samples. */
  percentiles(ps: readonly number[]): number[] {
    if (this.#n === 0) return ps.map(() => NaN);
    const sorted = this.#data.slice(0, this.#n).sort();
    return ps.map((p) => sorted[Math.min(this.#n - 1, Math.max(0, Math.ceil((p / 100) * this.#n) - 1))]!);
  }
}
