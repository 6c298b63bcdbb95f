/**
 * `throttle(gate)`: every item passes through a sluice gate — a rate limit, a concurrency
 * gate, a breaker, a composition — before it goes downstream. A refusal is a wait, never a
 * loss: the item waits the refusal's `retryAfterMs` on the gate's clock and asks again, and
 * meanwhile no more is requested upstream (the wait is backpressure). A refusal whose
 * `retryAfterMs` is Infinity ("retrying will not help": a cost above the burst, a breaker
 * held open) fails the stream with its RejectedError rather than hang. The permit is released
 * once downstream's `onNext` has returned ('success'), or as 'failure' if it threw.
 */
import type { TimerHandle } from '../../core/clock.js';
import { RejectedError } from '../../core/errors.js';
import { optionKeys, optKnownKeys } from '../../core/option-keys.js';
import type { Admission, AdmissionContext, Gate } from '../../core/types.js';
import { publisher } from '../publisher.js';
import type { Emitter } from '../emission.js';
import type { StageMeter } from '../stage-meter.js';
import type { Operator, Publisher } from '../types.js';
import { Stage } from './stage.js';
import { badArgument } from '../arguments.js';

export interface ThrottleOptions<T> {
  /** The admission context of an item (its cost, key, priority). @default {} */
  readonly context?: (item: T) => AdmissionContext;
  readonly meter?: StageMeter;
}

class ThrottleStage<T> extends Stage<T, T> {
  #held: T | undefined;
  #asking = false;
  #timer: TimerHandle | undefined;
  #waits = 0;
  constructor(
    upstream: Publisher<T>,
    readonly gate: Gate,
    readonly options: ThrottleOptions<T> | undefined,
  ) {
    super(upstream);
  }

  /** Refusals turned into waits so far. */
  get waits(): number {
    return this.#waits;
  }

  pull(e: Emitter<T>): void {
    if (this.options?.meter !== undefined) this.options.meter.demand = e.demand;
    if (this.#held !== undefined) {
      if (!this.#asking && this.#timer === undefined) this.#ask();
      return;
    }
    if (this.upstreamDone) {
      if (!e.cancelled) e.complete();
      return;
    }
    if (e.demand > 0 && this.requested === 0) this.request(1);
  }

  protected handle(item: T): void {
    this.#held = item;
    this.#ask();
  }

  #ask(): void {
    const item = this.#held as T;
    let answer: Admission | Promise<Admission>;
    try {
      answer = this.gate.admit(this.options?.context?.(item));
    } catch (err) {
      this.fail(err);
      return;
    }
    if (answer instanceof Promise) {
      this.#asking = true;
      answer.then(
        (a) => {
          this.#asking = false;
          this.#answered(a);
        },
        (err: unknown) => {
          this.#asking = false;
          this.fail(err);
        },
      );
    } else this.#answered(answer);
  }

  #answered(a: Admission): void {
    if (this.e.cancelled) {
      if (a.ok) a.release('ignored');
      return;
    }
    if (!a.ok) {
      if (!Number.isFinite(a.retryAfterMs)) {
        this.fail(new RejectedError(a));
        return;
      }
      this.#waits++;
      this.#timer = this.gate.clock.setTimer(() => {
        this.#timer = undefined;
        this.#ask();
      }, Math.max(1, a.retryAfterMs));
      return;
    }
    const item = this.#held as T;
    this.#held = undefined;
    if (this.e.demand === 0) {
      // Demand cannot shrink; this is defensive: the item stays until it is wanted.
      this.#held = item;
      a.release('ignored');
      return;
    }
    this.options?.meter?.passed();
    this.e.next(item);
    a.release(this.e.cancelled ? 'ignored' : 'success');
    this.e.wake();
  }

  protected override cleanup(): void {
    if (this.#timer !== undefined) this.gate.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#held = undefined;
  }
}

const THROTTLE_KEYS = optionKeys<ThrottleOptions<unknown>>({ context: true, meter: true });

export function throttle<T>(gate: Gate, options?: ThrottleOptions<T>): Operator<T, T> {
  if (gate === null || typeof gate !== 'object' || typeof gate.admit !== 'function' || gate.clock === undefined) {
    throw badArgument('throttle', 'gate', 'a sluice gate (admit, clock)', gate);
  }
  optKnownKeys('throttle', options, THROTTLE_KEYS);
  return (upstream) => publisher(() => new ThrottleStage<T>(upstream, gate, options), { name: `throttle(${gate.name})` });
}
