/**
 * `batch(size, maxWaitMs)`: items grouped into arrays of at most `size`; a partial batch is
 * emitted once `maxWaitMs` has passed since its first item (so a trickle is not held back),
 * and on completion. One unit of downstream demand is one batch: upstream is asked for
 * `size` items per batch wanted. A batch that is due while downstream has no demand waits for
 * it, and upstream is not asked for more meanwhile. Time is the `clock` option's (inject a
 * VirtualClock in tests).
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import { optionKeys, optKnownKeys } from '../../core/option-keys.js';
import { optClock, optInt, optNumber } from '../../core/options.js';
import { publisher } from '../publisher.js';
import type { Emitter } from '../emission.js';
import { UNBOUNDED } from '../rules.js';
import type { Operator, Publisher } from '../types.js';
import { Stage } from './stage.js';

export interface BatchOptions {
  /** @default systemClock */
  readonly clock?: Clock;
}

class BatchStage<T> extends Stage<T, T[]> {
  #current: T[] = [];
  #ready: T[][] = [];
  #timer: TimerHandle | undefined;
  constructor(
    upstream: Publisher<T>,
    readonly size: number,
    readonly maxWaitMs: number,
    readonly clock: Clock,
  ) {
    super(upstream);
  }

  pull(e: Emitter<T[]>): void {
    while (e.demand > 0 && this.#ready.length > 0) e.next(this.#ready.shift()!);
    if (e.cancelled) return;
    if (this.upstreamDone) {
      if (this.#current.length > 0 && e.demand > 0) {
        this.#clearTimer();
        const last = this.#current;
        this.#current = [];
        e.next(last);
      }
      if (this.#current.length === 0 && this.#ready.length === 0) e.complete();
      return;
    }
    if (this.#ready.length > 0 || e.demand === 0) return;
    const wanted = e.demand >= Math.floor(UNBOUNDED / this.size) ? UNBOUNDED : e.demand * this.size;
    const want = wanted === UNBOUNDED ? (this.requested >= UNBOUNDED / 2 ? 0 : UNBOUNDED) : wanted - this.#current.length - this.requested;
    if (want > 0) this.request(want);
  }

  protected override request(n: number): void {
    if (n === UNBOUNDED) {
      const up = this.up;
      if (up === undefined) return;
      this.requested = UNBOUNDED;
      up.request(UNBOUNDED);
    } else super.request(n);
  }

  protected handle(item: T): void {
    if (this.requested < 0 || this.requested >= UNBOUNDED / 2) this.requested = UNBOUNDED;
    const cur = this.#current;
    cur.push(item);
    if (cur.length === 1 && this.maxWaitMs !== Infinity) this.#timer = this.clock.setTimer(() => this.#due(), this.maxWaitMs);
    if (cur.length >= this.size) this.#due();
  }

  /** The current batch is full or its time is up: it goes next. */
  #due(): void {
    this.#clearTimer();
    if (this.#current.length === 0) return;
    this.#ready.push(this.#current);
    this.#current = [];
    this.e.wake();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  protected override cleanup(): void {
    this.#clearTimer();
    this.#current = [];
    this.#ready = [];
  }
}

const BATCH_KEYS = optionKeys<BatchOptions>({ clock: true });

export function batch<T>(size: number, maxWaitMs = Infinity, options?: BatchOptions): Operator<T, T[]> {
  const n = optInt('batch(size)', size, 1, Number.MAX_SAFE_INTEGER);
  const wait = optNumber('batch(maxWaitMs)', maxWaitMs, 0);
  optKnownKeys('batch', options, BATCH_KEYS);
  const clock = optClock(options?.clock);
  return (upstream) => publisher(() => new BatchStage<T>(upstream, n, wait, clock), { name: 'batch' });
}
