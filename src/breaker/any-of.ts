/**
 * Trip rule combinator: open when any of the rules would (e.g. 5 failures in a row, or
 * half of the last 10 s failing, or 80% of calls slower than 2 s). Every rule sees every call.
 */
import { InvalidArgumentError, InvalidOptionError } from '../core/index.js';
import type { RuleTally, RuleTiming, TripRule } from './trip-rule.js';
import { isTripRule, TRIP_RULE_EXPECTED } from './trip-rule.js';

const RANK: Readonly<Record<RuleTiming, number>> = { none: 0, end: 1, duration: 2 };

/**
 * Open when any rule trips: trips = rule₁ ∨ … ∨ ruleₙ. The state is the array of the
 * rules' states; `slowCallMs` is the smallest, `timing` the most demanding; the tally is
 * the component-wise maximum.
 */
export function anyOf(...rules: TripRule[]): TripRule<unknown[]> {
  if (rules.length === 0) throw new InvalidOptionError('rules', 'at least one trip rule', rules);
  // anyOf(undefined) or anyOf({}) made a rule that broke at the breaker's first call (or read slowCallMs NaN).
  rules.forEach((r, i) => {
    if (!isTripRule(r)) throw new InvalidOptionError(`rules[${i}]`, TRIP_RULE_EXPECTED, r);
  });
  let slowCallMs = Infinity;
  let timing: RuleTiming = 'none';
  for (const r of rules) {
    if (r.slowCallMs < slowCallMs) slowCallMs = r.slowCallMs;
    if (RANK[r.timing] > RANK[timing]) timing = r.timing;
  }
  return {
    name: 'any-of',
    timing,
    slowCallMs,
    initial: (now) => rules.map((r) => r.initial(now)),
    record(states, failed, durationMs, now) {
      let trips = false;
      // Every rule records the call, even after one has tripped: their windows stay whole.
      for (let i = 0; i < rules.length; i++) if (rules[i]!.record(states[i], failed, durationMs, now)) trips = true;
      return trips;
    },
    tally(states, now): RuleTally {
      let calls = 0;
      let failures = 0;
      let slow = 0;
      for (let i = 0; i < rules.length; i++) {
        const t = rules[i]!.tally(states[i], now);
        calls = Math.max(calls, t.calls);
        failures = Math.max(failures, t.failures);
        slow = Math.max(slow, t.slow);
      }
      return { calls, failures, slow };
    },
    restore(data, deltaMs, path) {
      if (!Array.isArray(data) || data.length !== rules.length) throw new InvalidArgumentError(path, `an array of ${rules.length} rule states`, data);
      return rules.map((r, i) => r.restore(data[i], deltaMs, `${path}[${i}]`));
    },
  };
}
