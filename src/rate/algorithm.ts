/**
 * The shape every metering algorithm shares. Algorithms are functions over plain-data state
 * (numbers only), so a store can hold the state anywhere and a remote store can port the
 * same formulas to a script. They never read a clock: `now` is an argument.
 */
import type { PolicyFacts } from '../core/types.js';
import type { RatePolicy } from './policy.js';

/** One metering decision: what to do, and the facts a RateLimit header needs. */
export interface RateDecision {
  /** Admitted now (`delayMs` 0) or reserved for later (`delayMs` > 0). */
  readonly allowed: boolean;
  /** When allowed: ms until the reserved units are due; the caller waits this long. 0 when immediate. */
  readonly delayMs: number;
  /**
   * When refused: ms until `cost` units are available, from the state alone (no other caller
   * assumed). `Infinity` when the cost exceeds what the policy can ever grant. 0 when allowed.
   */
  readonly retryAfterMs: number;
  /** Policy facts after this decision; the gate hands them on as the permit's or rejection's `facts`. */
  readonly facts: PolicyFacts;
  /**
   * Refused without metering: the store holds as many keys as it may, all of them live, so
   * a new key cannot be tracked (the gate's reason `keys_full`). Absent otherwise.
   */
  readonly full?: true;
  /**
   * Refused without metering: the store that holds the state cannot be reached and its
   * failure mode refuses (a Redis store with `onStoreError: 'closed'`): the gate's reason
   * `store_unavailable`, a 503 — not the client's doing. Absent otherwise.
   */
  readonly unavailable?: true;
}

/**
 * A metering algorithm over state `S`. Contract:
 * - `step` updates `state` in place only when it allows (or reserves); a refusal leaves it
 *   as it was — except a state written at a later clock reading than `now` (the clock went
 *   back), which `step` first rewrites as of `now`, and keeps so even when it refuses (else
 *   a refusal would wait for the clock to catch up). Updating in place keeps the memory
 *   store's hot path to one Map lookup.
 * - `fresh(p, now)` is the state of a key never seen, and any state at or after
 *   `idleAt(state, p)` behaves exactly like a fresh one, so it may be dropped.
 */
export interface RateAlgorithm<P extends RatePolicy, S extends object> {
  readonly algorithm: P['algorithm'];
  /** State of an unseen key: the full burst available. */
  fresh(policy: P, now: number): S;
  /** Whether `state` has this algorithm's shape (a key whose policy changed algorithm starts fresh). */
  isState(state: object): state is S;
  /** Decide whether `cost` units may go at `now`, or after a delay of at most `maxDelayMs`. */
  step(state: S, policy: P, cost: number, now: number, maxDelayMs: number): RateDecision;
  /** Give back `cost` units of a cancelled reservation. Never exceeds the policy's capacity. */
  refund(state: S, policy: P, cost: number, now: number): void;
  /** Units available at `now` (fractional; negative while reservations are outstanding). */
  available(state: S, policy: P, now: number): number;
  /** Time from which `state` is indistinguishable from `fresh(policy, now)`. */
  idleAt(state: S, policy: P): number;
  /**
   * Make `into` at least as used as `other` (both under `policy`), as of `now` and at every
   * later time without further calls: a state that admits a request then also admits it under
   * each of them. The memory store's floors (a bound on the keys it evicted) are built with it.
   */
  cover(into: S, other: S, policy: P, now: number): void;
  /**
   * A time at or before `idleAt(state, policy)`, later the more `state` has used (under one
   * policy): the memory store evicts the key with the earliest, and one whose rank has passed
   * first of all. The token bucket's and GCRA's is their idleAt; a sliding window's idleAt is
   * the same for every count in a window, so its rank is when its estimate falls under one unit.
   */
  rank(state: S, policy: P): number;
}

/**
 * `at - now`, nudged up if needed so that `now + result >= at` holds in floating point:
 * a caller who waits exactly the returned time finds its units there.
 */
export function delayUntil(at: number, now: number): number {
  let d = at - now;
  if (d <= 0) return 0;
  for (let step = Math.max(d * Number.EPSILON, Number.MIN_VALUE); now + d < at; step *= 2) d += step;
  return d;
}

/** Build a decision; one literal shape each keeps call sites monomorphic. */
export function decision(
  policy: string,
  limit: number,
  remaining: number,
  windowMs: number,
  resetMs: number,
  allowed: boolean,
  delayMs: number,
  retryAfterMs: number,
): RateDecision {
  return {
    allowed,
    delayMs,
    retryAfterMs,
    facts: {
      policy,
      limit,
      // The tolerance hides float noise (2.9999999999999996 units left is 3), nothing more.
      remaining: remaining > 0 ? Math.floor(remaining + 1e-9) : 0,
      windowMs,
      resetMs: resetMs > 0 ? resetMs : 0,
    },
  };
}
