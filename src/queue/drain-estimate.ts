/**
 * How soon a full channel will have room, from the observed drain (take) rate, without
 * reading the clock on every take. Two samples (time, takes so far) are kept and rotated when
 * the newer is a window old, so while rejections are frequent the older sample is one to two
 * windows back:
 *
 *   retryAfterMs = dt / dn              if dn > 0  (mean time the consumer needs to free one slot)
 *                = max(dt, windowMs)    if dn = 0  (a stalled consumer: no better guess than "a while")
 *
 * with dt = now - t0 and dn = takes since t0. After a long quiet spell the first estimate
 * averages over that spell; it is fresh again within two windows.
 */
export const DRAIN_WINDOW_MS = 1000;

export class DrainEstimate {
  #t0: number;
  #n0 = 0;
  #t1: number;
  #n1 = 0;

  constructor(now: number) {
    this.#t0 = this.#t1 = now;
  }

  retryAfterMs(now: number, taken: number): number {
    this.#sample(now, taken);
    const dt = Math.max(0, now - this.#t0);
    const dn = taken - this.#n0;
    return dn > 0 ? dt / dn : Math.max(dt, DRAIN_WINDOW_MS);
  }

  /** Takes per second over the same span; 0 before any time has passed. */
  ratePerSec(now: number, taken: number): number {
    this.#sample(now, taken);
    const dt = now - this.#t0;
    return dt > 0 ? ((taken - this.#n0) * 1000) / dt : 0;
  }

  #sample(now: number, taken: number): void {
    if (now - this.#t1 < DRAIN_WINDOW_MS) return;
    this.#t0 = this.#t1;
    this.#n0 = this.#n1;
    this.#t1 = now;
    this.#n1 = taken;
  }
}
