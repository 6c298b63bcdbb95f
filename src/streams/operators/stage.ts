/**
 * The base of a stage that manages its own upstream demand (mapAsync, flatMap, batch,
 * throttle): it subscribes upstream on start, keeps the subscription, and cancels it on
 * cancel. Subclasses say what an item, the end and an error mean.
 */
import type { Emitter, Source } from '../emission.js';
import { checkSignalArg, checkSubscription } from '../rules.js';
import type { Publisher, Subscriber, Subscription } from '../types.js';

export abstract class Stage<T, R> implements Source<R>, Subscriber<T> {
  protected up: Subscription | undefined;
  protected e!: Emitter<R>;
  /** Requested upstream and not yet received. */
  protected requested = 0;
  protected upstreamDone = false;
  #subscribed = false;
  readonly #upstream: Publisher<T>;

  constructor(upstream: Publisher<T>) {
    this.#upstream = upstream;
  }

  start(e: Emitter<R>): void {
    this.e = e;
    this.#upstream.subscribe(this);
  }

  onSubscribe(subscription: Subscription): void {
    const s = checkSubscription(subscription);
    if (this.#subscribed || this.e.cancelled) {
      s.cancel(); // §2.5
      return;
    }
    this.#subscribed = true;
    this.up = s;
    this.e.wake();
  }

  /** Ask upstream for `n` more. */
  protected request(n: number): void {
    const up = this.up;
    if (up === undefined || n <= 0 || this.upstreamDone) return;
    this.requested += n;
    up.request(n);
  }

  onNext(item: T): void {
    checkSignalArg(item, 'onNext');
    this.requested--;
    this.handle(item);
  }

  onError(error: unknown): void {
    checkSignalArg(error, 'onError');
    this.up = undefined;
    this.upstreamDone = true;
    this.cleanup(error);
    this.e.error(error); // §4.2
  }

  onComplete(): void {
    this.up = undefined;
    this.upstreamDone = true;
    this.e.wake();
    this.completed();
  }

  cancel(reason?: unknown): void {
    const up = this.up;
    this.up = undefined;
    this.upstreamDone = true;
    up?.cancel(reason);
    this.cleanup(reason);
  }

  /** Fail downstream, cancelling upstream (a user function failed). */
  protected fail(error: unknown): void {
    this.cancel(error);
    this.e.error(error);
  }

  abstract pull(e: Emitter<R>): void;
  protected abstract handle(item: T): void;
  /** Upstream completed; `pull` has been woken. */
  protected completed(): void {}
  /** Release timers and work in progress (cancel, error); `reason` is the cancel's or the error, for what it cancels in turn. */
  protected cleanup(_reason: unknown): void {}
}
