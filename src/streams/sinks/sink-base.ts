/**
 * What every sluice sink owes its publisher (§2): one subscription at a time (a second one is
 * cancelled, §2.5), signal arguments checked (§2.13), nothing called on the subscription after
 * a terminal signal (§2.3, §2.4), and a promise that settles exactly once.
 */
import { checkSignalArg, checkSubscription } from '../rules.js';
import type { Subscriber, Subscription } from '../types.js';

export abstract class SinkBase<T, R> implements Subscriber<T> {
  protected subscription: Subscription | undefined;
  #ended = false;
  #subscribed = false;
  readonly promise: Promise<R>;
  #resolve!: (value: R) => void;
  #reject!: (error: unknown) => void;

  constructor() {
    this.promise = new Promise<R>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  onSubscribe(subscription: Subscription): void {
    const s = checkSubscription(subscription);
    if (this.#subscribed) {
      s.cancel(); // §2.5: already subscribed (or done)
      return;
    }
    this.#subscribed = true;
    this.subscription = s;
    this.started(s);
  }

  onNext(item: T): void {
    checkSignalArg(item, 'onNext');
    if (this.#ended) return; // §2.8: items in flight after our cancel
    this.item(item);
  }

  onError(error: unknown): void {
    checkSignalArg(error, 'onError');
    if (this.#ended) return;
    this.subscription = undefined; // §2.4
    this.upstreamFailed(error);
  }

  onComplete(): void {
    if (this.#ended) return;
    this.subscription = undefined; // §2.4
    this.upstreamCompleted();
  }

  /** True once the sink settled or gave up. */
  protected get ended(): boolean {
    return this.#ended;
  }

  /** Settle with a value; idempotent. */
  protected succeed(value: R): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#resolve(value);
  }

  /** Settle with an error, cancelling the upstream if it is still live; idempotent. */
  protected fail(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    const s = this.subscription;
    this.subscription = undefined;
    s?.cancel(error); // the upstream's producer is told why (§3.12)
    this.#reject(error);
  }

  protected abstract started(s: Subscription): void;
  protected abstract item(item: T): void;
  protected abstract upstreamCompleted(): void;
  protected upstreamFailed(error: unknown): void {
    this.fail(error);
  }
}
