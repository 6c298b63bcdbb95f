/**
 * What a source fed by pushes (RabbitMQ's deliveries, Kafka's fetch loop) shares with its
 * pull: the pull waits until something is at hand, the broker failed, the pull was aborted or
 * the source closed — whichever comes first. A failure, once seen, fails every later pull.
 */
export class Arrivals {
  #wake: (() => void) | undefined;
  #failure: Error | undefined;
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  /** Something arrived (or changed): the waiting pull looks again. */
  ring(): void {
    this.#wake?.();
  }

  /** The broker failed: the waiting pull and every later one throw `error` (the first one kept). */
  fail(error: Error): void {
    this.#failure ??= error;
    this.ring();
  }

  /** The source closes: the waiting pull returns empty. Returns false when it was closed already. */
  close(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    this.ring();
    return true;
  }

  /**
   * Wait until `ready()` holds. Resolves true when it does, false when the pull should end
   * without taking (aborted, or the source closed); rejects with the failure.
   */
  async wait(ready: () => boolean, signal: AbortSignal): Promise<boolean> {
    while (!ready() && this.#failure === undefined && !signal.aborted && !this.#closed) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.#wake = undefined;
          signal.removeEventListener('abort', done);
          resolve();
        };
        this.#wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
    if (this.#failure !== undefined) throw this.#failure;
    return !signal.aborted && !this.#closed;
  }
}
