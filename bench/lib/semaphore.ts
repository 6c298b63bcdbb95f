/**
 * The floor for the concurrency suite: the least a concurrency limiter can do. A counter of
 * free slots and a growable ring buffer of waiting resolve functions; a released slot is
 * handed straight to the oldest waiter. No abort, no deadline, no priority, no stats.
 */
export class RingSemaphore {
  #free: number;
  #buf: ((() => void) | undefined)[] = new Array<undefined>(1024);
  #head = 0;
  #size = 0;

  constructor(limit: number) {
    this.#free = limit;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#push(resolve));
    try {
      return await fn();
    } finally {
      this.#release();
    }
  }

  #push(resolve: () => void): void {
    const cap = this.#buf.length;
    if (this.#size === cap) {
      // Unroll into a buffer twice the size; capacity stays a power of two.
      const next = new Array<(() => void) | undefined>(cap * 2);
      for (let i = 0; i < cap; i++) next[i] = this.#buf[(this.#head + i) & (cap - 1)];
      this.#buf = next;
      this.#head = 0;
    }
    this.#buf[(this.#head + this.#size++) & (this.#buf.length - 1)] = resolve;
  }

  #release(): void {
    if (this.#size === 0) {
      this.#free++;
      return;
    }
    const resolve = this.#buf[this.#head]!;
    this.#buf[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#buf.length - 1);
    this.#size--;
    resolve();
  }
}
