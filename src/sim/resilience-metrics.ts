/**
 * What the resilience simulation counts, as it runs: every attempt that reached the
 * dependency (and whether it was down then), every logical request's fate by the second it
 * was issued in, and the first local refusal after the outage began.
 */

export interface SecondSample {
  /** Simulated second (0-based). */
  readonly second: number;
  /** Attempts that reached the dependency in this second. */
  readonly attempts: number;
  /** Logical requests issued in this second... */
  readonly issued: number;
  /** ...and how many of them finally succeeded. */
  readonly succeeded: number;
}

export class ResilienceMeter {
  readonly #attempts: number[];
  readonly #issued: number[];
  readonly #succeeded: number[];
  readonly #bucketMs: number;
  readonly #outageStart: number;
  readonly #outageEnd: number;
  attempts = 0;
  attemptsWhileDown = 0;
  issued = 0;
  issuedWhileDown = 0;
  succeeded = 0;
  failed = 0;
  /** Clock time of the first local refusal at or after the outage's start. */
  firstRefusalAt: number | undefined;

  /** `bucketMs`: resolution of the recovery measurement; seconds are derived from it. */
  constructor(durationMs: number, bucketMs: number, outageStart: number, outageEnd: number) {
    const n = Math.ceil(durationMs / bucketMs) + 1;
    this.#attempts = new Array<number>(n).fill(0);
    this.#issued = new Array<number>(n).fill(0);
    this.#succeeded = new Array<number>(n).fill(0);
    this.#bucketMs = bucketMs;
    this.#outageStart = outageStart;
    this.#outageEnd = outageEnd;
  }

  isDown(at: number): boolean {
    return at >= this.#outageStart && at < this.#outageEnd;
  }

  attempt(at: number): void {
    this.attempts++;
    if (this.isDown(at)) this.attemptsWhileDown++;
    this.#attempts[this.#bucket(at)]!++;
  }

  issue(at: number): void {
    this.issued++;
    if (this.isDown(at)) this.issuedWhileDown++;
    this.#issued[this.#bucket(at)]!++;
  }

  settle(issuedAt: number, ok: boolean): void {
    if (ok) {
      this.succeeded++;
      this.#succeeded[this.#bucket(issuedAt)]!++;
    } else {
      this.failed++;
    }
  }

  /** A client-side mechanism refused locally (breaker open, budget spent, throttle). */
  refusal(at: number): void {
    if (at >= this.#outageStart && this.firstRefusalAt === undefined) this.firstRefusalAt = at;
  }

  /**
   * Ms from the dependency's recovery to the start of the first bucket from which every
   * bucket of issued requests succeeds at >= `ratio` (undefined: never, within the run).
   */
  recoveredAfter(ratio: number): number | undefined {
    const first = Math.floor(this.#outageEnd / this.#bucketMs);
    let candidate: number | undefined;
    for (let b = first; b < this.#issued.length; b++) {
      const issued = this.#issued[b]!;
      if (issued === 0) continue;
      const good = this.#succeeded[b]! >= ratio * issued;
      if (!good) candidate = undefined;
      else if (candidate === undefined) candidate = b;
    }
    return candidate === undefined ? undefined : Math.max(0, candidate * this.#bucketMs - this.#outageEnd);
  }

  /** Per simulated second. */
  timeline(): SecondSample[] {
    const perSecond = Math.round(1000 / this.#bucketMs);
    const out: SecondSample[] = [];
    for (let s = 0; s * perSecond < this.#issued.length; s++) {
      let attempts = 0;
      let issued = 0;
      let succeeded = 0;
      for (let b = s * perSecond; b < Math.min((s + 1) * perSecond, this.#issued.length); b++) {
        attempts += this.#attempts[b]!;
        issued += this.#issued[b]!;
        succeeded += this.#succeeded[b]!;
      }
      out.push({ second: s, attempts, issued, succeeded });
    }
    return out;
  }

  #bucket(at: number): number {
    return Math.min(this.#issued.length - 1, Math.floor(at / this.#bucketMs));
  }
}
