/**
 * The rule that judges a client reading a pending response (read-watch.ts enforces it, on
 * what socket-progress.ts measures). While bytes wait in the gateway for a client, time runs
 * in windows of `server.writeTimeout`; at the end of each, over the `elapsed` ms since the
 * last one, the client must have taken
 *
 *   taken >= 1  and  taken >= minBytesPerS × elapsed / 1000     (`server.minReadRate`)
 *
 * or it is cut. The first term is the no-progress rule (a client that takes nothing for a
 * window holds a connection for nothing; it holds with `minReadRate: 0` too), the second
 * Apache mod_reqtimeout's MinRate: a reader too slow to finish in any reasonable time is cut,
 * one that keeps up with the rate is never cut however long the response.
 *
 * A client that takes all there is owes nothing: its watch ends, and the next one (when bytes
 * are pending again) starts a new window.
 */

/** Whether `taken` bytes in `elapsedMs` keep up with `minBytesPerS` (and are some bytes at all). */
export function tookEnough(taken: number, elapsedMs: number, minBytesPerS: number): boolean {
  return taken > 0 && taken * 1000 >= minBytesPerS * elapsedMs;
}

/** One client's window: where it started and what the client had taken then. */
export class ReadWindow {
  #since: number;
  #base: number;

  constructor(
    /** `server.writeTimeout`, ms (>= 1). */
    readonly windowMs: number,
    /** `server.minReadRate`, bytes per second (0: only the no-progress rule). */
    readonly minBytesPerS: number,
    now: number,
    taken: number,
  ) {
    this.#since = now;
    this.#base = taken;
  }

  /** When the current window started. */
  get since(): number {
    return this.#since;
  }

  /**
   * A sample at `now` of the client's `taken` counter (monotonic, any origin). True while it
   * keeps up (a window not over yet, or one it passed: the next starts now); false: cut it.
   */
  observe(now: number, taken: number): boolean {
    const elapsed = now - this.#since;
    if (elapsed < this.windowMs) return true;
    const ok = tookEnough(taken - this.#base, elapsed, this.minBytesPerS);
    this.#since = now;
    this.#base = taken;
    return ok;
  }
}
