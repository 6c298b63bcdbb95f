/**
 * The no-load RTT that AIMD's relative drop signal, Vegas and Gradient2 compare a sample with:
 * the RTT the dependency gives when nothing queues. Internal to sluice/limit.
 *
 *   rttNoLoad = min RTT seen                                   (a faster dependency shows at once)
 *   n         = min(limit in force, sample.inFlight)           (the concurrency the sample ran at)
 *   ref       = (nRef, rttRef), the sample a fall in concurrency started from;
 *               a sample with n >= nRef moves ref to it
 *   n <= (1 − MIN_CUT) · nRef:                                  (concurrency fell by >= 4 %: a test)
 *     stayed = |rtt / rttRef − 1| <= (1 − n / nRef) · FOLLOW  (the RTT did not follow the cut)
 *     stayed on two tests in a row → rttNoLoad = rtt           (re-measured)
 *     ref ← (n, rtt)
 *   a sample with n > nRef also clears a pending first test
 *
 * Why: above the knee a dependency queues, and by Little's law its RTT is proportional to the
 * concurrency (rtt = n / throughput) — cutting concurrency by x % cuts the RTT by x %. Below
 * the knee nothing queues and the RTT does not move. So when the algorithm's own decrease (an
 * AIMD backoff, a Vegas or Gradient2 cut) lowers concurrency and the RTT falls by less than
 * FOLLOW (a quarter) of the cut, the RTT is service time, not queueing: the dependency got
 * slower, and the old minimum is stale. That is the "server 2x slower" case a pure minimum
 * never recognises (Netflix Vegas waits for its periodic probe; Envoy's gradient controller
 * drops concurrency to a floor to re-measure its minRTT). A real queue never passes the test:
 * its RTT follows the cut (a window that mixes requests granted before the cut lags it, which
 * is why the bar is a quarter, not a half).
 *
 * The estimate cannot drift up under a standing overload (Gradient2's long-term average does,
 * Netflix issue #137): a higher RTT is only taken after the concurrency fell and the RTT did not.
 * Feed it window aggregates (WindowedLimit), so its minimum is a minimum of window averages.
 */
import { argNumber } from '../core/index.js';

/** Smallest fall in concurrency, relative, that is taken as a test of the no-load RTT. */
export const MIN_CUT = 0.04;
/** Share of a concurrency cut a queueing RTT follows at least (Little's law says all of it). */
export const FOLLOW = 0.25;

export interface NoLoadRttState {
  /** No-load RTT, ms; 0 before the first sample. */
  readonly rttNoLoadMs: number;
  /** Concurrency of the reference sample; 0 when none. */
  readonly refInFlight: number;
  /** RTT of the reference sample, ms. */
  readonly refRttMs: number;
  /** One test found the RTT insensitive to concurrency; the next one in a row re-measures. */
  readonly pending: boolean;
}

export class NoLoadRtt {
  #rtt = 0;
  #refN = 0;
  #refRtt = 0;
  /** The last test found the RTT insensitive to concurrency; a second one in a row re-measures. */
  #pending = false;

  get value(): number {
    return this.#rtt;
  }

  /**
   * Fold in one sample that ran at concurrency `n` (rtt > 0). Returns 'lower' when it set a new
   * minimum, 'remeasured' when it raised the estimate, else 'same'.
   */
  update(rtt: number, n: number): 'lower' | 'remeasured' | 'same' {
    let result: 'lower' | 'remeasured' | 'same' = 'same';
    if (this.#rtt === 0 || rtt < this.#rtt) {
      this.#rtt = rtt;
      result = 'lower';
    }
    if (this.#refN === 0 || n >= this.#refN) {
      if (n > this.#refN) this.#pending = false;
      this.#refN = n;
      this.#refRtt = rtt;
    } else if (n <= (1 - MIN_CUT) * this.#refN) {
      const band = (1 - n / this.#refN) * FOLLOW;
      const stayed = rtt > this.#rtt && rtt >= this.#refRtt * (1 - band) && rtt <= this.#refRtt * (1 + band);
      if (stayed && this.#pending) {
        this.#rtt = rtt;
        result = 'remeasured';
      }
      this.#pending = stayed && !this.#pending;
      this.#refN = n;
      this.#refRtt = rtt;
    }
    return result;
  }

  /** Replace the estimate (Vegas's periodic probe); keeps the reference. */
  reset(rtt: number): void {
    this.#rtt = rtt;
  }

  state(): NoLoadRttState {
    return { rttNoLoadMs: this.#rtt, refInFlight: this.#refN, refRttMs: this.#refRtt, pending: this.#pending };
  }

  restore(state: NoLoadRttState): void {
    const rtt = argNumber('state.rttNoLoadMs', state.rttNoLoadMs, 0);
    const n = argNumber('state.refInFlight', state.refInFlight, 0);
    const ref = argNumber('state.refRttMs', state.refRttMs, 0);
    this.#rtt = rtt;
    this.#refN = n;
    this.#refRtt = ref;
    this.#pending = state.pending === true;
  }
}
