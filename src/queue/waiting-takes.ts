/**
 * Takes waiting for an item, served in arrival order. The channel lets a take wait only while
 * its buffer is empty, so `serve` (hand an arriving item to the first waiter) keeps the order.
 */
import type { Clock } from '../core/clock.js';
import { ClosedError, RejectedError } from '../core/errors.js';
import { abortError, waitDeadline } from '../core/gate-base.js';
import { SignalRegistry } from '../core/signal-waiters.js';
import { stallAware } from '../core/stall-aware.js';
import type { ChannelMeter } from './channel-meter.js';
import { DONE } from './channel-iterator.js';
import type { TakeContext } from './types.js';
import { WaiterList } from './waiter-list.js';
import { Taker } from './waiter.js';
import type { Waiter } from './waiter.js';

export class WaitingTakes<T> {
  readonly #list = new WaiterList<Taker>();
  /** The last served Taker, reused by the next wait: a consumer that keeps catching up allocates less. */
  #spare: Taker | undefined = undefined;
  /** One abort listener per distinct signal, whatever the number of takes waiting on it. */
  readonly #signals = new SignalRegistry<Waiter>((takers, signal) => this.#aborted(takers as Taker[], signal));

  /** The channel's clock, its deadline timers stall-aware: a take an item came for during a stall of the loop gets it, not a timeout (core/stall-aware.ts). */
  readonly clock: Clock;

  constructor(
    readonly name: string,
    clock: Clock,
    readonly meter: ChannelMeter<T>,
  ) {
    this.clock = stallAware(clock);
  }

  get size(): number {
    return this.#list.size;
  }

  /**
   * Wait for an item. `owner` undefined: a `take()` (resolves the item); else an async
   * iterator (resolves iterator results).
   */
  wait(owner: object | undefined, ctx: TakeContext | undefined): Promise<unknown> {
    const now = this.clock.now();
    const deadline = ctx === undefined ? Infinity : waitDeadline(ctx, now, Infinity);
    if (deadline <= now) {
      this.meter.takeTimeouts++;
      return Promise.reject(this.#timeout());
    }
    const t = this.#spare ?? new Taker();
    this.#spare = undefined;
    t.owner = owner;
    const promise = new Promise<unknown>(t.executor);
    const signal = ctx?.signal;
    if (signal !== undefined) this.#signals.join(t, signal);
    this.#list.push(t);
    if (deadline !== Infinity) t.timer = this.clock.setTimer(() => this.#expire(t), deadline - now);
    return promise;
  }

  /** Hand `item` to the first waiting take; false when none waits. */
  serve(item: T): boolean {
    const t = this.#list.shift();
    if (t === undefined) return false;
    t.detach(this.clock);
    const resolve = t.resolve;
    const owner = t.owner;
    // Nothing refers to a served Taker any more (timer and listener are gone): recycle it.
    t.clear();
    t.owner = undefined;
    this.#spare = t;
    resolve(owner === undefined ? item : { value: item, done: false });
    return true;
  }

  /** An iterator ended early: its pending takes settle done, so no item goes to it. */
  cancel(owner: object): void {
    for (let t = this.#list.head; t !== undefined; ) {
      const next = t.next;
      if (t.owner === owner && this.#list.remove(t)) {
        t.detach(this.clock);
        t.resolve(DONE);
      }
      t = next;
    }
  }

  /** The channel is closed and empty: every waiting take settles done. */
  finishAll(): void {
    for (let t = this.#list.shift(); t !== undefined; t = this.#list.shift()) {
      t.detach(this.clock);
      if (t.owner === undefined) t.reject(new ClosedError(this.name));
      else t.resolve(DONE);
    }
  }

  #expire(t: Taker): void {
    if (!this.#list.remove(t)) return;
    t.timer = undefined; // fired
    t.detach(this.clock);
    this.meter.takeTimeouts++;
    t.reject(this.#timeout());
  }

  /** `takers` (arrival order) are already off the signal's list; each still waiting is rejected once. */
  #aborted(takers: Taker[], signal: AbortSignal): void {
    for (const t of takers) {
      if (!this.#list.remove(t)) continue;
      t.detach(this.clock);
      this.meter.aborted++;
      t.reject(abortError(this.name, signal));
    }
  }

  /** A take's deadline passed: no item came. Not a put refusal, so not in `rejected`. */
  #timeout(): RejectedError {
    return new RejectedError({ ok: false, gate: this.name, reason: 'queue_timeout', retryAfterMs: 0, facts: undefined });
  }
}
