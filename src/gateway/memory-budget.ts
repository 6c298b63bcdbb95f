/**
 * Bytes the gateway holds for clients, all of them together: request bodies read before
 * admission, response bytes held ahead of slow readers. One counter with a capacity; a
 * holder takes before it holds and gives back what it took, once (`Hold`). The capacity may
 * change on reload; holdings above a lowered one drain as they are given back.
 */
export class MemoryBudget {
  #used = 0;
  #peak = 0;

  constructor(public capacity: number) {}

  get used(): number {
    return this.#used;
  }

  /** Most bytes held at once so far. */
  get peak(): number {
    return this.#peak;
  }

  /** A holding of nothing yet, to grow with `take` and end with `release`. */
  hold(): Hold {
    return new Hold(this);
  }

  /** @internal */
  tryTake(n: number): boolean {
    if (this.#used + n > this.capacity) return false;
    this.#used += n;
    if (this.#used > this.#peak) this.#peak = this.#used;
    return true;
  }

  /** @internal */
  give(n: number): void {
    this.#used -= n;
  }
}

/** One holder's bytes of a budget. */
export class Hold {
  #bytes = 0;
  #released = false;

  constructor(readonly budget: MemoryBudget) {}

  get bytes(): number {
    return this.#bytes;
  }

  /** Hold `n` more bytes; false (and nothing taken) when the budget has no room, or after release. */
  take(n: number): boolean {
    if (this.#released || !this.budget.tryTake(n)) return false;
    this.#bytes += n;
    return true;
  }

  /** Hold `n` bytes in all (more or fewer than now); false when more do not fit. */
  resize(n: number): boolean {
    if (n >= this.#bytes) return this.take(n - this.#bytes);
    this.budget.give(this.#bytes - n);
    this.#bytes = n;
    return true;
  }

  /** Give everything back; later calls are no-ops. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.budget.give(this.#bytes);
    this.#bytes = 0;
  }
}
