/**
 * A producer throttle driven by lag (or queue depth), with hysteresis: the seeds'
 * AdaptiveBackpressure, ok → slow → reject. Each `admit()` reads the lag and steps the
 * level with the watermark rule of `sluice/pressure` (a reading inside a band never flaps):
 *
 *   ok      admitted at once;
 *   slow    admitted one at a time, spaced by  interval = maxDelayMs · p,  where
 *           p = (lag − slowAt) / (rejectAt − slowAt) in [0, 1]: the closer to the reject
 *           watermark, the slower the producer;
 *   reject  refused with RejectedError (reason 'overloaded', retryAfterMs = `retryAfterMs`).
 *
 * Callers waiting for a slot in `slow` are bounded (`maxWaiting`; past it: 'queue_full'), so a
 * producer never buffers without bound when the consumers fall behind.
 */
import type { Clock } from '../core/index.js';
import { AbortedError, optInt, optionKeys, optKnownKeys, optNumber, RejectedError } from '../core/index.js';
import type { PressureLevel, Signal, WatermarkOptions } from '../pressure/index.js';
import { customSignal, nextLevel } from '../pressure/index.js';
import { optClock } from '../core/options.js';
import { argOptions } from '../core/option-keys.js';

export interface ProducerThrottleOptions extends WatermarkOptions {
  /** The lag (or depth) now; NaN (not read yet) counts as ok. */
  readonly read: () => number;
  /** Enter `slow` above this lag. */
  readonly slowAt: number;
  /** Enter `reject` above this lag: the high watermark. */
  readonly rejectAt: number;
  /** Spacing between admissions at the reject watermark, ms. > 0. @default 100 */
  readonly maxDelayMs?: number;
  /** Callers waiting for a slot while slow. Integer >= 0. @default 1000 */
  readonly maxWaiting?: number;
  /** retryAfterMs of a refusal, ms (about one lag read). >= 0. @default 1000 */
  readonly retryAfterMs?: number;
  /** Name in errors. @default 'producer-throttle' */
  readonly name?: string;
  /** @default systemClock */
  readonly clock?: Clock;
}

export interface ProducerThrottleStats {
  readonly level: PressureLevel;
  readonly lag: number;
  readonly admitted: number;
  readonly delayed: number;
  readonly rejected: number;
  readonly waiting: number;
}

const THROTTLE_KEYS = optionKeys<ProducerThrottleOptions>({
  read: true,
  slowAt: true,
  rejectAt: true,
  hysteresis: true,
  slowRecoverAt: true,
  rejectRecoverAt: true,
  minDwellMs: true,
  maxDelayMs: true,
  maxWaiting: true,
  retryAfterMs: true,
  name: true,
  clock: true,
});

export class ProducerThrottle {
  readonly name: string;
  readonly signal: Signal;
  readonly #maxDelayMs: number;
  readonly #maxWaiting: number;
  readonly #retryAfterMs: number;
  readonly #clock: Clock;
  #level: PressureLevel = 'ok';
  #nextAt = -Infinity;
  #waiting = 0;
  #admitted = 0;
  #delayed = 0;
  #rejected = 0;

  constructor(options: ProducerThrottleOptions) {
    argOptions('ProducerThrottle', options, false);
    optKnownKeys('ProducerThrottle', options, THROTTLE_KEYS);
    this.name = options.name ?? 'producer-throttle';
    this.signal = customSignal({ ...options, name: this.name });
    this.#maxDelayMs = optNumber('maxDelayMs', options.maxDelayMs ?? 100, Number.MIN_VALUE);
    this.#maxWaiting = optInt('maxWaiting', options.maxWaiting ?? 1000, 0);
    this.#retryAfterMs = optNumber('retryAfterMs', options.retryAfterMs ?? 1000, 0);
    this.#clock = optClock(options.clock);
  }

  /** The level after the last reading. */
  get level(): PressureLevel {
    return this.#level;
  }

  stats(): ProducerThrottleStats {
    return { level: this.#level, lag: this.#read(), admitted: this.#admitted, delayed: this.#delayed, rejected: this.#rejected, waiting: this.#waiting };
  }

  #read(): number {
    const v = this.signal.read();
    return typeof v === 'number' && !Number.isNaN(v) ? v : 0;
  }

  /** Steps the level with the current reading; returns the reading. */
  #step(): number {
    const lag = this.#read();
    this.#level = nextLevel(this.#level, lag, this.signal.watermarks);
    return lag;
  }

  #stepLevel(): PressureLevel {
    this.#step();
    return this.#level;
  }

  /** Wait for a slot (slow), pass (ok) or throw RejectedError (reject, or too many waiting). */
  async admit(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw new AbortedError(this.name, signal.reason);
    const lag = this.#step();
    if (this.#level === 'reject') throw this.#refuse('overloaded', this.#retryAfterMs);
    if (this.#level === 'ok') {
      this.#admitted++;
      return;
    }
    const w = this.signal.watermarks;
    const p = Math.min(1, Math.max(0, (lag - w.slowAt) / (w.rejectAt - w.slowAt)));
    const now = this.#clock.now();
    const at = Math.max(now, this.#nextAt);
    const waitMs = at - now;
    if (waitMs > 0 && this.#waiting >= this.#maxWaiting) throw this.#refuse('queue_full', waitMs);
    this.#nextAt = at + this.#maxDelayMs * p;
    if (waitMs > 0) {
      this.#waiting++;
      this.#delayed++;
      try {
        await sleep(this.#clock, waitMs, signal, this.name);
      } finally {
        this.#waiting--;
      }
      // The lag may have reached the reject watermark while this caller waited.
      if (this.#stepLevel() === 'reject') throw this.#refuse('overloaded', this.#retryAfterMs);
    }
    this.#admitted++;
  }

  #refuse(reason: 'overloaded' | 'queue_full', retryAfterMs: number): RejectedError {
    this.#rejected++;
    return new RejectedError({ ok: false, gate: this.name, reason, retryAfterMs, facts: undefined });
  }
}

function sleep(clock: Clock, ms: number, signal: AbortSignal | undefined, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clock.clearTimer(t);
      reject(new AbortedError(name, signal!.reason));
    };
    const t = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
