/**
 * `timeout(ms)`: fail the stream with a 'TimeoutError' DOMException (as `AbortSignal.timeout`
 * uses) when downstream has been waiting `ms` for an item — demand outstanding, nothing
 * delivered. A stream nobody is asking is never timed out. Upstream is cancelled. Time is the
 * `clock` option's.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import { optionKeys, optKnownKeys } from '../../core/option-keys.js';
import { optClock, optNumber } from '../../core/options.js';
import { publisher } from '../publisher.js';
import type { Emitter } from '../emission.js';
import type { Operator, Publisher } from '../types.js';
import { Relay } from './relay.js';

class TimeoutRelay<T> extends Relay<T, T> {
  #timer: TimerHandle | undefined;
  constructor(
    upstream: Publisher<T>,
    readonly ms: number,
    readonly clock: Clock,
  ) {
    super(upstream);
  }
  override pull(e: Emitter<T>): void {
    this.#arm(e);
    super.pull(e);
  }
  protected handle(item: T): void {
    this.#disarm();
    const e = this.emitter;
    e.next(item);
    this.#arm(e);
  }
  #arm(e: Emitter<T>): void {
    if (this.#timer !== undefined || e.demand === 0 || e.cancelled) return;
    this.#timer = this.clock.setTimer(() => {
      this.#timer = undefined;
      this.failWith(new DOMException(`timeout: no item within ${this.ms} ms of demand`, 'TimeoutError'));
    }, this.ms);
  }
  #disarm(): void {
    if (this.#timer !== undefined) this.clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }
  override cancel(reason?: unknown): void {
    this.#disarm();
    super.cancel(reason);
  }
  override onComplete(): void {
    this.#disarm();
    super.onComplete();
  }
  override onError(error: unknown): void {
    this.#disarm();
    super.onError(error);
  }
}

/** Options of {@link timeout}. */
export interface TimeoutOptions {
  /** The clock the wait runs on. @default systemClock */
  readonly clock?: Clock;
}

const TIMEOUT_KEYS = optionKeys<TimeoutOptions>({ clock: true });

export function timeout<T>(ms: number, options?: TimeoutOptions): Operator<T, T> {
  const limit = optNumber('timeout(ms)', ms, 0);
  optKnownKeys('timeout', options, TIMEOUT_KEYS);
  const clock = optClock(options?.clock);
  return (upstream) => publisher(() => new TimeoutRelay(upstream, limit, clock), { name: 'timeout' });
}
