/**
 * Whether this process's event loop is saturated: event-loop utilisation (ELU, the share of
 * the last interval spent running code rather than waiting for I/O) above `threshold`, held
 * with hysteresis. The refusal pacer asks it before pausing a refused connection.
 *
 * Why gate pacing on it: pausing helps only when refusals compete with admitted work for the
 * loop (a closed-loop retry storm: each client re-sends the instant it is answered, so
 * refusals fill whatever CPU is free). When the loop has room, a refusal is cheap and
 * answering at once is right — a keep-alive connection may carry many independent requests
 * (a client's pool, an open-loop load), and pausing it for a second would stall all of them
 * for one refusal. Measured on 2 cores (`npm run bench:gateway`; saved as
 * bench/results/gateway-27e8a91-always-on-pausing.md): always-on pacing took open-loop 8x
 * goodput to 38/s (1.5% of capacity).
 *
 * Rule, sampled every `intervalMs`: engage when ELU > threshold; release when ELU falls below
 * `threshold - 0.1` and the engaged state has been held `dwellMs` (Hysteresis, watermarks.ts).
 * `threshold` 0 means always engaged (no sampling).
 *
 * And, when the gateway's counters are given (`answers`), only while refusals are what fills
 * the loop: at least half of the last second's requests refused (released below a quarter).
 * A saturated loop that is busy with admitted work gains nothing from pausing the few it
 * refuses, and loses their demand: at 100 wrk connections on a limit of 50 (122 refusals/s
 * against 2,018 admitted/s), pausing engaged and goodput was 84% of capacity where HAProxy
 * made 97% (bench/results/gateway-5b3e90e-epyc-pool-collapse.md). ELU also counts time the
 * process was runnable but descheduled, so on a busy machine it reads high at modest CPU.
 *
 * The share is the last second's, but one reading is enough to engage it at a storm's onset: at
 * least ONSET_REFUSALS refusals since the last reading, two thirds or more of its requests. Over
 * a second that was admitted work until the storm came, the share reaches half only once the
 * storm has filled most of it: wrk opening 2,000 connections at once on a gateway that had served
 * 100 got ~1,300 refusals in the 300 ms before pausing engaged, every one re-sent at once, while
 * the 50 slots' answers waited up to 140 ms to be read (bench/results/perf9-*.md). And while not
 * engaged, ONSET_REFUSALS refusals since the last reading take the next one at once (ONSET_MIN_MS
 * or more after it), not at the interval: the first reading of a storm that follows an idle spell
 * measures the idle spell, and the interval after it let ~1,700 refusals out unpaced.
 *
 * And, when the pacer says it is `holding` connections paused, a low ELU does not release
 * it: pausing is what took the load off the loop, so a release on that reading let the storm
 * back in at full speed until the ELU engaged pausing again. Measured (issue 9, wrk at 2,000
 * connections, 1 worker): 1,000–2,100 refusals/s went out unpaced in those gaps, each storm
 * a run of long loop turns in which upstream answers waited to be read — the slot turnaround
 * the closed loop loses (bench/results/turnaround-*.md). Held, pausing ends when the storm
 * does: its connections' pauses run out without a refusal to pause them again. The share's
 * release (below a quarter of the requests refused) waits for that too: pausing lowers the
 * share as it lowers the ELU.
 *
 * Idle, it samples every `idleIntervalMs` instead: when the last reading saw no request (the
 * `answers` counters unchanged), the ELU under the threshold and nothing engaged, readings
 * every 100 ms cost an idle gateway a wake-up each for nothing. The first reading that sees a
 * request goes back to `intervalMs`, and `saturated` — asked at each refusal — reads again
 * at once when its reading is older than `intervalMs`, so a storm out of the quiet is seen at
 * its first refusal, as before. A slot of the refused-share ring then holds up to the idle
 * interval's requests: the share is over the last second or two, not less.
 */
import { performance } from 'node:perf_hooks';
import { eventLoopUtilizationSignal } from '../pressure/event-loop-utilization-signal.js';
import type { LoopTimes } from '../pressure/event-loop-utilization-signal.js';
import { Hysteresis } from '../pressure/hysteresis.js';

export interface LoopSaturationOptions {
  /** ELU in (0, 1) above which the loop counts as saturated; 0: always saturated. */
  readonly threshold: number;
  /** Sampling period, ms. @default 100 */
  readonly intervalMs?: number;
  /** Sampling period while idle (no request since the last reading, nothing engaged), ms; only with `answers`. @default 1000 */
  readonly idleIntervalMs?: number;
  /** Least time engaged before release, ms. @default 1000 */
  readonly dwellMs?: number;
  /** Cumulative loop times (tests inject them). @default performance.eventLoopUtilization */
  readonly source?: () => LoopTimes;
  /** Clock for the dwell, ms. @default performance.now */
  readonly now?: () => number;
  /**
   * Cumulative requests answered and of them refused (the gateway's counters). When given,
   * the loop counts as saturated by refusals only while at least `minRefusedShare` of the
   * requests of the last second were refused.
   */
  readonly answers?: () => { readonly requests: number; readonly rejected: number };
  /** @default 0.5 */
  readonly minRefusedShare?: number;
  /**
   * Whether refused connections are held paused now (the pacer's). While they are, an
   * engaged state is not released by a low ELU (see the module comment). @default () => false
   */
  readonly holding?: () => boolean;
}

/** Samples in the refused-share window (10 x 100 ms: the last second). */
const SHARE_SAMPLES = 10;

/**
 * A storm's onset, engaged on one reading: at least this many refusals since the last reading,
 * and at least ONSET_SHARE of its requests (see the module comment).
 */
const ONSET_REFUSALS = 100;
const ONSET_SHARE = 2 / 3;
/** The shortest span of loop time an onset reading covers, ms: an ELU over less says little. */
const ONSET_MIN_MS = 10;

export class LoopSaturation {
  readonly #source: (() => LoopTimes) | undefined;
  readonly #dwellMs: number;
  readonly #now: () => number;
  #threshold = 0;
  #read: () => number = () => 0;
  #hysteresis: Hysteresis | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #intervalMs: number;
  readonly #idleIntervalMs: number;
  /** The period the timer runs at now. */
  #period = 0;
  /** The last reading saw a request (or an engaged state): not idle. */
  #busy = true;
  /** When the last reading was taken (`now`). */
  #sampledAt = -Infinity;
  #last = 0;
  readonly #answers: (() => { readonly requests: number; readonly rejected: number }) | undefined;
  readonly #minShare: number;
  /** Requests and refusals per sample, a ring of the last SHARE_SAMPLES; the counters at the last sample. */
  readonly #requests = new Float64Array(SHARE_SAMPLES);
  readonly #rejected = new Float64Array(SHARE_SAMPLES);
  #slot = 0;
  #lastCounts: { requests: number; rejected: number } | undefined;
  #share = 0;
  /**
   * The share's own hysteresis: high at minRefusedShare, low again below half of it (pausing
   * lowers the share it is engaged on), and not while refused connections are held paused: at
   * 500 wrk connections on 50 slots pausing took refusals from ~2,200/s to ~430/s, a sixth of
   * the requests, and the share released it — the storm came back unpaced (~1,800 of ~2,230
   * refusals/s), engaged again a second later (bench/results/pace-a36404c-busy.md).
   */
  #shareHigh = false;
  readonly #holding: () => boolean;
  /** Engaged by the ELU, and not released since (a low ELU releases only while nothing is held). */
  #loaded = false;

  constructor(options: LoopSaturationOptions) {
    this.#answers = options.answers;
    this.#minShare = options.minRefusedShare ?? 0.5;
    this.#holding = options.holding ?? ((): boolean => false);
    this.#source = options.source;
    this.#dwellMs = options.dwellMs ?? 1000;
    this.#now = options.now ?? ((): number => performance.now());
    this.#intervalMs = options.intervalMs ?? 100;
    this.#idleIntervalMs = Math.max(this.#intervalMs, options.idleIntervalMs ?? 1000);
    this.threshold = options.threshold;
    this.#arm();
  }

  /** The timer at the period the last reading calls for (idle or not); a no-op when it runs at it already. */
  #arm(): void {
    if (this.#period === -1) return; // stopped
    const idle = this.#hysteresis === undefined || (this.#answers !== undefined && !this.#busy);
    const period = idle ? this.#idleIntervalMs : this.#intervalMs;
    if (period === this.#period) return;
    clearInterval(this.#timer);
    this.#period = period;
    // Skips a tick that comes soon after a reading `saturated` took on demand: readings stay an interval or more apart.
    this.#timer = setInterval(() => {
      if (this.#now() - this.#sampledAt >= this.#intervalMs / 2) this.sample();
    }, period);
    this.#timer.unref();
  }

  get threshold(): number {
    return this.#threshold;
  }

  /** A new threshold (a config reload) starts from "not saturated"; 0 means always. */
  set threshold(value: number) {
    this.#threshold = value;
    this.#loaded = false;
    this.#busy = true;
    if (value === 0) {
      this.#hysteresis = undefined;
      if (this.#period > 0) this.#arm(); // nothing to sample: the idle period
      return;
    }
    const signal = eventLoopUtilizationSignal({
      slowAt: value,
      rejectAt: 1.01,
      slowRecoverAt: Math.max(0, value - 0.1),
      minDwellMs: this.#dwellMs,
      ...(this.#source !== undefined ? { source: this.#source } : {}),
    });
    signal.start?.();
    this.#read = (): number => signal.read();
    this.#hysteresis = new Hysteresis(signal.watermarks, this.#now());
    if (this.#period > 0) this.#arm();
  }

  /**
   * Whether refused connections should be paused now. A reading older than the interval is
   * taken again first: the timer's runs only between poll phases, and a retry storm can hold
   * the loop in one for seconds — libuv polls again at once, up to 48 times, while each poll
   * returns its 1,024 events, each a request to refuse. Measured (issue 9, 10,000 wrk
   * connections, pacing not engaged at the row's start): ~50,000 refusals, none paused, in
   * the ~3 s before the timer's next reading engaged pausing.
   */
  get saturated(): boolean {
    if (this.#hysteresis === undefined) return true;
    const now = this.#now();
    if (now - this.#sampledAt >= this.#intervalMs || this.#onset(now)) this.sample();
    if (this.#hysteresis.level !== 'ok') this.#loaded = true;
    else if (this.#loaded && !this.#holding()) this.#loaded = false;
    return this.#loaded && (this.#answers === undefined || this.#shareHigh);
  }

  /**
   * Not engaged, and ONSET_REFUSALS refusals or more since the last reading, ONSET_MIN_MS or
   * more after it: a storm's onset, read now rather than at the interval (see the module comment).
   */
  #onset(now: number): boolean {
    if (this.#answers === undefined || this.#lastCounts === undefined || (this.#loaded && this.#shareHigh)) return false;
    return now - this.#sampledAt >= ONSET_MIN_MS && this.#answers().rejected - this.#lastCounts.rejected >= ONSET_REFUSALS;
  }

  /** Share of the last second's requests that were refused (0 without `answers`). */
  get refusedShare(): number {
    return this.#share;
  }

  /** The last ELU reading (0 before the first sample, or when always engaged). */
  get utilization(): number {
    return this.#last;
  }

  /** Take one reading now (the timer does this every interval). */
  sample(): void {
    if (this.#hysteresis === undefined) return;
    this.#sampledAt = this.#now();
    this.#last = this.#read();
    this.#hysteresis.update(this.#last, this.#now());
    const requests = this.#sampleShare();
    this.#busy = requests > 0 || this.#hysteresis.level !== 'ok' || this.#loaded || this.#shareHigh;
    this.#arm();
  }

  /** Requests since the last reading. */
  #sampleShare(): number {
    if (this.#answers === undefined) return 0;
    const now = this.#answers();
    const before = this.#lastCounts ?? now;
    this.#lastCounts = { requests: now.requests, rejected: now.rejected };
    this.#requests[this.#slot] = now.requests - before.requests;
    this.#rejected[this.#slot] = now.rejected - before.rejected;
    this.#slot = (this.#slot + 1) % SHARE_SAMPLES;
    let requests = 0;
    let rejected = 0;
    for (let i = 0; i < SHARE_SAMPLES; i++) {
      requests += this.#requests[i]!;
      rejected += this.#rejected[i]!;
    }
    this.#share = requests > 0 ? rejected / requests : 0;
    const lastRequests = now.requests - before.requests;
    const lastRejected = now.rejected - before.rejected;
    if (this.#share >= this.#minShare || (lastRejected >= ONSET_REFUSALS && lastRejected >= ONSET_SHARE * lastRequests)) this.#shareHigh = true;
    else if (this.#share < this.#minShare / 2 && !this.#holding()) this.#shareHigh = false;
    return now.requests - before.requests;
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#period = -1;
  }
}
