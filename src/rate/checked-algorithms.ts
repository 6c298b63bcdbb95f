/**
 * The algorithm objects `sluice/rate` exports (tokenBucket, gcra, slidingWindow, and what
 * algorithmOf gives), each checking its arguments at each call: a cost that is not a number >= 1
 * (a cost of -1 was admitted and minted a unit; NaN and '30d' were admitted and emptied the
 * bucket), a policy ratePolicy() refuses or of another algorithm, a state that is not one of its
 * own, a clock reading that is not a finite number. The gates and stores call the unchecked
 * objects in their modules per request: what they pass was validated at construction, and a
 * RateStore's arguments are trusted (store.ts).
 */
import { InvalidArgumentError } from '../core/errors.js';
import { argNumber } from '../core/options.js';
import type { RateAlgorithm } from './algorithm.js';
import { gcra as gcraOf } from './gcra.js';
import type { GcraState } from './gcra.js';
import type { GcraPolicy, RatePolicy, SlidingWindowPolicy, TokenBucketPolicy } from './policy.js';
import { ratePolicy } from './policy.js';
import { slidingWindow as slidingWindowOf } from './sliding-window.js';
import type { SlidingWindowState } from './sliding-window.js';
import { tokenBucket as tokenBucketOf } from './token-bucket.js';
import type { TokenBucketState } from './token-bucket.js';

function argNow(now: unknown): number {
  if (typeof now !== 'number' || !Number.isFinite(now)) throw new InvalidArgumentError('now', 'a finite number (clock ms)', now);
  return now;
}

const argCost = (cost: unknown): number => argNumber('cost', cost, 1);

/** The same methods as `alg`, each checking what it is given first. */
function checked<P extends RatePolicy, S extends object>(alg: RateAlgorithm<P, S>, name: string): RateAlgorithm<P, S> {
  const own = (policy: unknown): P => {
    const p = ratePolicy(policy as P);
    if (p.algorithm !== alg.algorithm) throw new InvalidArgumentError('policy.algorithm', `${JSON.stringify(alg.algorithm)} (algorithmOf(policy) gives a policy's own)`, p.algorithm);
    return p as P;
  };
  const isState = (s: unknown): s is S => typeof s === 'object' && s !== null && alg.isState(s);
  const state = (s: unknown, argument = 'state'): S => {
    // Plain data, numbers only (algorithm.ts): a field of another type would meter as NaN.
    if (!isState(s) || !Object.values(s).every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new InvalidArgumentError(argument, `a ${alg.algorithm} state (what ${name}.fresh() returns)`, s);
    }
    return s;
  };
  return Object.freeze({
    algorithm: alg.algorithm,
    fresh: (p, now) => alg.fresh(own(p), argNow(now)),
    isState: (s): s is S => isState(s),
    step: (s, p, cost, now, maxDelayMs) => alg.step(state(s), own(p), argCost(cost), argNow(now), argNumber('maxDelayMs', maxDelayMs, 0)),
    refund: (s, p, cost, now) => alg.refund(state(s), own(p), argCost(cost), argNow(now)),
    available: (s, p, now) => alg.available(state(s), own(p), argNow(now)),
    idleAt: (s, p) => alg.idleAt(state(s), own(p)),
    cover: (into, other, p, now) => alg.cover(state(into, 'into'), state(other, 'other'), own(p), argNow(now)),
    rank: (s, p) => alg.rank(state(s), own(p)),
  } satisfies RateAlgorithm<P, S>);
}

/** Token bucket (token-bucket.ts), checking its arguments. */
export const tokenBucket: RateAlgorithm<TokenBucketPolicy, TokenBucketState> = checked(tokenBucketOf, 'tokenBucket');
/** GCRA (gcra.ts), checking its arguments. */
export const gcra: RateAlgorithm<GcraPolicy, GcraState> = checked(gcraOf, 'gcra');
/** Sliding-window counter (sliding-window.ts), checking its arguments. */
export const slidingWindow: RateAlgorithm<SlidingWindowPolicy, SlidingWindowState> = checked(slidingWindowOf, 'slidingWindow');
