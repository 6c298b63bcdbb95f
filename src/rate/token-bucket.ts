/**
 * Token bucket. A bucket of capacity b = burst refills continuously at r = rate / perMs
 * units per ms; a request of cost c passes when c units are there and takes them:
 *
 *   tokens(now) = min(b, tokens + (now − last) · r)
 *   allow  iff  tokens(now) ≥ c            tokens' = tokens(now) − c,  last' = now
 *
 * Over any interval of length t it admits at most b + r·t units. The check is done in the
 * time domain (allow iff now ≥ last + (c − tokens) / r), the same expression that gives
 * Retry-After, so a caller who waits exactly `retryAfterMs` finds its units there.
 *
 * Reservations (waiting callers) take the units at once and let the bucket go into debt
 * (tokens < 0); later callers see the debt, so grants stay in arrival order and the bound
 * above holds at grant times. A cancelled reservation is refunded.
 *
 * A clock set back: a state written at a reading later than `now` (last > now) is first
 * brought to now — `last` := now, the tokens as they were: nothing refills across the jump,
 * and a refusal waits no longer than it would on a bucket spent at this reading (the
 * rewrite is kept even when the call is refused, so the bucket refills from there).
 */
import { decision, delayUntil } from './algorithm.js';
import type { RateAlgorithm, RateDecision } from './algorithm.js';
import type { TokenBucketPolicy } from './policy.js';

/** Plain data: tokens at `last` (may be negative: outstanding reservations), `last` in clock ms. */
export interface TokenBucketState {
  tokens: number;
  last: number;
}

function refilled(s: TokenBucketState, p: TokenBucketPolicy, now: number): number {
  const t = now > s.last ? s.tokens + ((now - s.last) * p.rate) / p.perMs : s.tokens;
  return t < p.burst ? t : p.burst;
}

export const tokenBucket: RateAlgorithm<TokenBucketPolicy, TokenBucketState> = {
  algorithm: 'token-bucket',

  fresh(p, now) {
    return { tokens: p.burst, last: now };
  },

  isState(s): s is TokenBucketState {
    return (s as Partial<TokenBucketState>).tokens !== undefined;
  },

  step(s, p, cost, now, maxDelayMs): RateDecision {
    if (s.last > now) s.last = now;
    const perUnit = p.perMs / p.rate;
    const b = p.burst;
    const tokens = refilled(s, p, now);
    if (cost > b) return decision(p.name, b, tokens, b * perUnit, (b - tokens) * perUnit, false, 0, Infinity);
    let delay = 0;
    if (s.tokens < cost) {
      const at = s.last + (cost - s.tokens) * perUnit;
      if (at > now) {
        delay = delayUntil(at, now);
        if (delay > maxDelayMs) return decision(p.name, b, tokens, b * perUnit, (b - tokens) * perUnit, false, 0, delay);
      }
    }
    const left = tokens - cost;
    s.tokens = left;
    s.last = now;
    return decision(p.name, b, left, b * perUnit, (b - left) * perUnit, true, delay, 0);
  },

  refund(s, p, cost, now) {
    const t = refilled(s, p, now) + cost;
    s.tokens = t < p.burst ? t : p.burst;
    s.last = now;
  },

  available(s, p, now) {
    return refilled(s, p, now);
  },

  idleAt(s, p) {
    return s.last + ((p.burst - s.tokens) * p.perMs) / p.rate;
  },

  cover(into, other, p, now) {
    // Fewer tokens now stays fewer: both refill at the policy's rate up to the same burst.
    const a = refilled(into, p, now);
    const b = refilled(other, p, now);
    into.tokens = a < b ? a : b;
    into.last = now;
  },

  rank(s, p) {
    return tokenBucket.idleAt(s, p);
  },
};
