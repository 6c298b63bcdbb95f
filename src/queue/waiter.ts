/**
 * Pending puts and takes. A waiter settles exactly once; `detach` clears its timer and takes it
 * off its signal's list (the last one out removes the signal's listener) so nothing outlives
 * it (VirtualClock.pendingTimers reaches 0). Because nothing refers to a served waiter any
 * more, the channel may recycle it for the next wait.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { SignalMember, SignalWaiters } from '../core/signal-waiters.js';
import type { Entry } from '../discipline/entry.js';

export class Waiter implements SignalMember<Waiter> {
  resolve: (value: unknown) => void = noop;
  reject: (reason: Error) => void = noop;
  timer: TimerHandle | undefined = undefined;
  /** The list of waiters sharing its AbortSignal (one listener for all of them), while on it. */
  group: SignalWaiters<Waiter> | undefined = undefined;
  prevOfSignal: Waiter | undefined = undefined;
  nextOfSignal: Waiter | undefined = undefined;
  // Intrusive list links (WaiterList): waiting allocates no list node.
  prev: this | undefined = undefined;
  next: this | undefined = undefined;
  linked = false;
  /** Built once per waiter, so a recycled waiter waits again without a new closure. */
  readonly executor = (resolve: (value: never) => void, reject: (reason: Error) => void): void => {
    this.resolve = resolve as (value: unknown) => void;
    this.reject = reject;
  };

  detach(clock: Clock): void {
    if (this.timer !== undefined) {
      clock.clearTimer(this.timer);
      this.timer = undefined;
    }
    this.group?.registry.leave(this);
  }

  /** Forget the settled promise's functions (do not keep its continuation alive). */
  clear(): void {
    this.resolve = this.reject = noop;
  }
}

/** A put waiting for a slot (overflow 'block'). */
export class PutWaiter<T> extends Waiter {
  item: T | undefined = undefined;
  priority = 0;
  key: string | undefined = undefined;
  /** Clock time of the put call, for the admit event's waitedMs; NaN when it was not read. */
  since = NaN;
  /** Its place among priority-ordered putters (undefined under FIFO). */
  entry: Entry<PutWaiter<T>> | undefined = undefined;
}

/**
 * A take waiting for an item. `owner` undefined: a `take()` call, resolved with the item and
 * rejected with ClosedError when the channel is done. Otherwise the async iterator that asked;
 * resolved with iterator results.
 */
export class Taker extends Waiter {
  owner: object | undefined = undefined;
}

export function noop(): void {}
