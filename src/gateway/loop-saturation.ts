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
  /** Least time engaged before release, ms. @default 1000 */
  readonly dwellMs?: number;
  /** Cumulative loop times (tests inject them). @default performance.eventLoopUtilization */
  readonly source?: () => LoopTimes;
  /** Clock for the dwell, ms. @default performance.now */
  readonly now?: () => number;
}

export class LoopSaturation {
  readonly #source: (() => LoopTimes) | undefined;
  readonly #dwellMs: number;
  readonly #now: () => number;
  #threshold = 0;
  #read: () => number = () => 0;
  #hysteresis: Hysteresis | undefined;
  #timer: NodeJS.Timeout | undefined;
  #last = 0;

  constructor(options: LoopSaturationOptions) {
    this.#source = options.source;
    this.#dwellMs = options.dwellMs ?? 1000;
    this.#now = options.now ?? ((): number => performance.now());
    this.threshold = options.threshold;
    this.#timer = setInterval(() => this.sample(), options.intervalMs ?? 100);
    this.#timer.unref();
  }

  get threshold(): number {
    return this.#threshold;
  }

  /** A new threshold (a config reload) starts from "not saturated"; 0 means always. */
  set threshold(value: number) {
    this.#threshold = value;
    if (value === 0) {
      this.#hysteresis = undefined;
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
  }

  /** Whether refused connections should be paused now. */
  get saturated(): boolean {
    return this.#hysteresis === undefined || this.#hysteresis.level !== 'ok';
  }

  /** The last ELU reading (0 before the first sample, or when always engaged). */
  get utilization(): number {
    return this.#last;
  }

  /** Take one reading now (the timer does this every interval). */
  sample(): void {
    if (this.#hysteresis === undefined) return;
    this.#last = this.#read();
    this.#hysteresis.update(this.#last, this.#now());
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
