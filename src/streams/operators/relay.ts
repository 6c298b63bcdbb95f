/**
 * The base of a one-upstream stage: a Source for its downstream subscription and a Subscriber
 * of its upstream. It subscribes upstream when its own subscriber arrives, asks upstream for
 * what downstream still wants and is not already on its way (`demand − requested`), and lets
 * the subclass decide what an upstream item becomes. Terminal signals pass through (§4.2:
 * a stage that does not recover an error propagates it at once).
 */
import type { Emitter, Source } from '../emission.js';
import { checkSignalArg, checkSubscription, UNBOUNDED } from '../rules.js';
import type { Publisher, Subscriber, Subscription } from '../types.js';

export abstract class Relay<T, R> implements Source<R>, Subscriber<T> {
  protected up: Subscription | undefined;
  protected emitter!: Emitter<R>;
  /** Requested upstream and not yet received. */
  protected requested = 0;
  #subscribed = false;
  readonly #upstream: Publisher<T>;

  constructor(upstream: Publisher<T>) {
    this.#upstream = upstream;
  }

  start(emitter: Emitter<R>): void {
    this.emitter = emitter;
    this.#upstream.subscribe(this);
  }

  pull(emitter: Emitter<R>): void {
    const up = this.up;
    if (up === undefined) return;
    const want = this.upstreamWant(emitter.demand);
    if (want > 0) {
      this.requested = want >= UNBOUNDED - this.requested ? UNBOUNDED : this.requested + want;
      up.request(want);
    }
  }

  /** How many more to ask upstream for, given downstream's outstanding demand. */
  protected upstreamWant(demand: number): number {
    if (demand === UNBOUNDED) return this.requested === UNBOUNDED ? 0 : UNBOUNDED;
    return demand - this.requested;
  }

  cancel(reason?: unknown): void {
    const up = this.up;
    this.up = undefined;
    up?.cancel(reason);
  }

  onSubscribe(subscription: Subscription): void {
    const s = checkSubscription(subscription);
    if (this.#subscribed) {
      s.cancel(); // §2.5
      return;
    }
    this.#subscribed = true;
    if (this.emitter.cancelled) {
      s.cancel();
      return;
    }
    this.up = s;
    if (this.emitter.demand > 0) this.emitter.wake();
  }

  onNext(item: T): void {
    checkSignalArg(item, 'onNext');
    if (this.requested !== UNBOUNDED) this.requested--;
    this.handle(item);
  }

  onError(error: unknown): void {
    checkSignalArg(error, 'onError');
    this.up = undefined;
    this.emitter.error(error);
  }

  onComplete(): void {
    this.up = undefined;
    this.emitter.complete();
  }

  /** An upstream item arrived (within demand). */
  protected abstract handle(item: T): void;

  /** Fail downstream and cancel upstream (a user function threw). */
  protected failWith(error: unknown): void {
    this.cancel(error);
    this.emitter.error(error);
  }
}
