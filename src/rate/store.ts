/**
 * Where per-key rate state lives. The memory store is the embedded default; a remote store
 * (Redis, with the same formulas in an atomic script) implements the same interface so that
 * gates and adapters do not change. A store may answer synchronously or with a promise;
 * gates return synchronously whenever the store does.
 */
import type { RateDecision } from './algorithm.js';
import type { RatePolicy } from './policy.js';

export interface RateStore {
  /**
   * Meter `cost` units for `key` at time `now` under `policy`, in one atomic step. When
   * the units are not there but will be within `maxDelayMs`, reserve them and answer
   * `allowed` with `delayMs` > 0. Arguments are trusted: `policy` comes from `ratePolicy()`
   * and `cost` >= 1 was checked by the gate.
   */
  consume(key: string, policy: RatePolicy, cost: number, now: number, maxDelayMs: number): RateDecision | Promise<RateDecision>;
  /**
   * Optional, for a store that answers with promises: {@link consume}, with the caller's next
   * step applied to the decision before the store's promise settles — `then(decision, arg,
   * key, cost, now)`, the last three as given here, so a caller passes a function made once,
   * not a closure per decision. The promise settles with what `then` returns (a promise is
   * followed), or rejects with what it throws. A gate uses it for callers without a signal:
   * one promise per decision instead of the store's and the one `.then` would chain on it.
   */
  consumeThen?<A, T>(key: string, policy: RatePolicy, cost: number, now: number, maxDelayMs: number, then: RateThen<A, T>, arg: A): Promise<T>;
  /** Give back `cost` units of a reservation that was cancelled before its grant. Unknown keys: no-op. */
  refund(key: string, policy: RatePolicy, cost: number, now: number): void | Promise<void>;
  /** Forget a key (its next request sees a full bucket). */
  delete(key: string): boolean | Promise<boolean>;
  /** Forget every key. */
  clear(): void | Promise<void>;
  /** Keys currently held (a remote store may report only what it knows locally). */
  readonly size: number;
}

/** What a caller of {@link RateStore.consumeThen} does with the decision. */
export type RateThen<A, T> = (d: RateDecision, arg: A, key: string, cost: number, now: number) => T | PromiseLike<T>;
