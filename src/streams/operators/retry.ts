/**
 * `retry(policy)`: when upstream fails, subscribe to it again, as a sluice RetryPolicy
 * decides (backoff with jitter, attempts, deadline, budget; `sluice/retry`). Demand carries
 * over: the new subscription is asked for what downstream still wants. Items delivered before
 * a failure are not taken back, and a re-subscribed cold source starts again from its
 * beginning: use it with sources that resume (a broker consumer) or whose items are
 * idempotent. When the policy gives up, the stream fails with the last error. An attempt's
 * time limit (`attemptTimeoutMs`) cancels that subscription.
 */
import { AbortedError } from '../../core/errors.js';
import { RetryPolicy } from '../../retry/retry-policy.js';
import { publisher } from '../publisher.js';
import type { Emitter, Source } from '../emission.js';
import { checkSignalArg, checkSubscription } from '../rules.js';
import type { Operator, Publisher, Subscriber, Subscription } from '../types.js';
import { badArgument } from '../arguments.js';

class Attempt<T> implements Subscriber<T> {
  sub: Subscription | undefined;
  requested = 0;
  ended = false;
  resolve!: () => void;
  reject!: (err: unknown) => void;
  readonly done = new Promise<void>((res, rej) => {
    this.resolve = res;
    this.reject = rej;
  });
  constructor(readonly e: Emitter<T>) {}
  onSubscribe(s: Subscription): void {
    checkSubscription(s);
    if (this.sub !== undefined || this.ended) {
      s.cancel();
      return;
    }
    this.sub = s;
    this.topUp();
  }
  topUp(): void {
    const want = this.e.demand - this.requested;
    if (this.sub !== undefined && want > 0) {
      this.requested += want;
      this.sub.request(want);
    }
  }
  onNext(item: T): void {
    checkSignalArg(item, 'onNext');
    if (this.ended) return;
    this.requested--;
    this.e.next(item);
  }
  onError(error: unknown): void {
    checkSignalArg(error, 'onError');
    this.ended = true;
    this.sub = undefined;
    this.reject(error);
  }
  onComplete(): void {
    this.ended = true;
    this.sub = undefined;
    this.resolve();
  }
  cancel(reason: unknown): void {
    this.ended = true;
    const s = this.sub;
    this.sub = undefined;
    s?.cancel(reason);
  }
}

class RetrySource<T> implements Source<T> {
  #attempt: Attempt<T> | undefined;
  readonly #abort = new AbortController();
  constructor(
    readonly upstream: Publisher<T>,
    readonly policy: RetryPolicy,
  ) {}

  start(e: Emitter<T>): void {
    this.policy
      .execute((signal) => {
        const a = new Attempt<T>(e);
        this.#attempt = a;
        // The attempt's time limit, or the stream's cancel: the upstream is told which.
        signal.addEventListener('abort', () => a.cancel(signal.reason), { once: true });
        this.upstream.subscribe(a);
        return a.done;
      }, { signal: this.#abort.signal })
      .then(
        () => e.complete(),
        (err: unknown) => {
          if (!(err instanceof AbortedError && this.#abort.signal.aborted)) e.error(err);
        },
      );
  }

  pull(): void {
    this.#attempt?.topUp();
  }

  cancel(reason: unknown): void {
    this.#attempt?.cancel(reason);
    this.#abort.abort(reason);
  }
}

export function retry<T>(policy: RetryPolicy): Operator<T, T> {
  if (!(policy instanceof RetryPolicy)) throw badArgument('retry', 'policy', 'a RetryPolicy (sluice/retry)', policy);
  return (upstream) => publisher(() => new RetrySource(upstream, policy), { name: 'retry' });
}
