/**
 * The Reactive Streams contract, adapted to JavaScript (docs/streams.md states every rule).
 * A Subscriber signals demand with `request(n)`; a Publisher sends at most that many
 * `onNext` signals, one at a time, then at most one terminal signal.
 */

/** The link between one Publisher and one Subscriber. */
export interface Subscription {
  /**
   * Ask for `n` more items (§3.8). `n` must be a positive integer; anything else fails the
   * stream with a StreamRuleError (§3.9). Demand adds up and saturates at
   * `Number.MAX_SAFE_INTEGER`, which counts as unbounded (§3.17). A no-op once cancelled or ended (§3.6).
   */
  request(n: number): void;
  /**
   * Stop: no signal follows once it returns, except ones already on the stack (§3.12); idempotent (§3.5, §3.7).
   * `reason` (a sluice extension; Reactive Streams' cancel takes none) is why: sluice's sources hand it
   * on (a ReadableStream's `cancel(reason)`, `emitter.signal.reason`); without one they are given a
   * DOMException named 'AbortError'.
   */
  cancel(reason?: unknown): void;
}

/** Receives the signals of one subscription: onSubscribe, then onNext* and at most one of onError / onComplete. */
export interface Subscriber<T> {
  onSubscribe(subscription: Subscription): void;
  onNext(item: T): void;
  onError(error: unknown): void;
  onComplete(): void;
}

/** A source of items for any number of subscribers (or exactly one: see `single` in docs/streams.md). */
export interface Publisher<T> {
  /** Throws TypeError when `subscriber` is not a Subscriber (§1.9); every other failure reaches `onError`. */
  subscribe(subscriber: Subscriber<T>): void;
}

/** A stage that is both: it subscribes upstream and is subscribed to downstream (§4.1). */
export interface Processor<T, R> extends Subscriber<T>, Publisher<R> {}

/** An operator: a function from one Publisher to another (`pipe(source, map(f), filter(g))`). */
export type Operator<T, R> = (upstream: Publisher<T>) => Publisher<R>;
