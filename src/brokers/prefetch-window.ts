/**
 * The prefetch a push broker (RabbitMQ `basic.qos`) may hand this consumer, adapted to the
 * processing rate: enough unacknowledged messages to keep `bufferMs` of work at hand, never
 * less than what the pipeline has demanded, within [min, max]:
 *
 *     rate     = settled / elapsed                (messages/s over the last interval)
 *     prefetch = clamp(max(ceil(rate · bufferMs / 1000), demand), min, max)
 *
 * So a slow handler holds few messages (memory and redelivery-on-crash stay small) and a fast
 * one is never starved by round trips. Recomputed at most every `intervalMs`; pure arithmetic
 * on an injected clock.
 */
import type { Clock } from '../core/index.js';
import { InvalidOptionError, optInt, optionKeys, optKnownKeys, optNumber, optRecord, systemClock } from '../core/index.js';
import { deepFreeze } from '../core/deep-freeze.js';

export interface PrefetchOptions {
  /** Lowest prefetch. Integer >= 1. @default 1 */
  readonly min?: number;
  /** Highest prefetch. Integer >= min, <= 65535 (the AMQP field). @default 1000 */
  readonly max?: number;
  /** Work to keep at hand, ms of processing at the measured rate. > 0. @default 1000 */
  readonly bufferMs?: number;
  /** Shortest interval between two changes, ms. > 0. @default 1000 */
  readonly intervalMs?: number;
}

export const PREFETCH_DEFAULTS = deepFreeze({ min: 1, max: 1000, bufferMs: 1000, intervalMs: 1000 } as const);

const PREFETCH_KEYS = optionKeys<PrefetchOptions>({ min: true, max: true, bufferMs: true, intervalMs: true });

export class PrefetchWindow {
  readonly min: number;
  readonly max: number;
  readonly #bufferMs: number;
  readonly #intervalMs: number;
  readonly #clock: Clock;
  #value: number;
  #settled = 0;
  #since: number;

  /** `fixed`: a constant prefetch (min = max), for the fixed-prefetch comparison. */
  constructor(options: PrefetchOptions | number = {}, prefix = 'prefetch', clock: Clock = systemClock) {
    this.#clock = clock;
    if (typeof options === 'number') {
      this.min = this.max = optInt(prefix, options, 1, 65535);
      this.#bufferMs = this.#intervalMs = Infinity;
    } else {
      optRecord(prefix, options, 'a number (a fixed prefetch) or an object { min, max, bufferMs, intervalMs }');
      optKnownKeys('prefetch', options, PREFETCH_KEYS, `${prefix}.`);
      this.min = optInt(`${prefix}.min`, options.min ?? PREFETCH_DEFAULTS.min, 1, 65535);
      this.max = optInt(`${prefix}.max`, options.max ?? PREFETCH_DEFAULTS.max, 1, 65535);
      if (this.max < this.min) throw new InvalidOptionError(`${prefix}.max`, `an integer >= min (${this.min})`, this.max);
      this.#bufferMs = optNumber(`${prefix}.bufferMs`, options.bufferMs ?? PREFETCH_DEFAULTS.bufferMs, Number.MIN_VALUE);
      this.#intervalMs = optNumber(`${prefix}.intervalMs`, options.intervalMs ?? PREFETCH_DEFAULTS.intervalMs, Number.MIN_VALUE);
    }
    this.#value = this.min;
    this.#since = clock.now();
  }

  get value(): number {
    return this.#value;
  }

  get adaptive(): boolean {
    return this.min !== this.max;
  }

  /** One message settled (acked, retried or dead-lettered). */
  settled(): void {
    this.#settled++;
  }

  /**
   * The prefetch to use now, given the outstanding demand. Rises at once to meet demand;
   * follows the rate at most every `intervalMs`; never above `ceiling` (a bound of the caller's
   * own, such as bytes held), applied at once, nor below 1. Returns the new value when it changed.
   */
  update(demand: number, ceiling = Infinity): number | undefined {
    if (!this.adaptive) return undefined;
    const now = this.#clock.now();
    const elapsed = now - this.#since;
    let next = this.#value;
    if (elapsed >= this.#intervalMs) {
      const rate = (this.#settled * 1000) / elapsed;
      next = Math.ceil((rate * this.#bufferMs) / 1000);
      this.#settled = 0;
      this.#since = now;
    }
    next = Math.max(1, Math.min(ceiling, this.max, Math.max(this.min, next, Math.min(demand, this.max))));
    if (next === this.#value) return undefined;
    this.#value = next;
    return next;
  }
}
