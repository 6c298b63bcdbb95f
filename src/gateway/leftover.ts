/**
 * The rest of a response nobody will read (its client went away, or was cut off: for its slot,
 * its connection, or for not reading), read and thrown away within a bound.
 *
 * Why not abort at once: the upstream counts the request in flight until it has written its
 * response or seen its connection end, and an upstream on node:http sees a reset only in the
 * close phase of the loop turn that read it — after the same poll may have read, on another
 * (idle) connection, the request the freed slot let in. Until cutfix a cut aborted and gave the
 * slot back at once, and an upstream counting to its responses' 'close' saw one in flight over
 * the limit per cut (the hostile yaml scenario: 7 at limit 5).
 *
 * - A response whose rest comes within the bound ends as any complete one does: the upstream
 *   has written its last byte before the gateway can read it, so the request the slot goes to
 *   next arrives after the upstream's count went down, and the connection is kept.
 * - Past the bound (more than `server.responseBuffer` of body after the cut, or
 *   {@link LEFTOVER_MAX_MS}), the upstream connection is closed and the permit ends at once; the
 *   pool hands that connection out first (upstream-pool.ts), so the request the slot goes to
 *   next opens a new connection after the reset was sent, and an upstream reads it after it
 *   learned of the reset.
 */

/** At most this long reading a response for nobody, from the cut, ms. */
export const LEFTOVER_MAX_MS = 500;

export class Leftover {
  #bytes = 0;
  readonly #timer: NodeJS.Timeout;

  /** `maxBytes`: of body, from the cut. `giveUp`: the bound's time is up (never after `end()`). */
  constructor(
    readonly maxBytes: number,
    giveUp: () => void,
  ) {
    this.#timer = setTimeout(giveUp, LEFTOVER_MAX_MS);
    this.#timer.unref();
  }

  /** `n` more bytes read and thrown away: whether they are within the bound. */
  took(n: number): boolean {
    this.#bytes += n;
    return this.#bytes <= this.maxBytes;
  }

  /** The response ended (read out, failed, or given up on). */
  end(): void {
    clearTimeout(this.#timer);
  }
}
