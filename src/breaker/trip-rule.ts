/**
 * The trip-rule contract: a rule only sees finished calls and answers "open now?"; the
 * breaker's state machine (closed / open / half-open) only enforces the answer (cockatiel's
 * ConsecutiveBreaker / SamplingBreaker split, Resilience4j's sliding-window config).
 *
 * A rule is stateless; its state is plain data (numbers and arrays of numbers) that the
 * breaker holds, exports and restores, so a store can keep it elsewhere.
 */

/** Counts a rule currently judges on (a window's calls, failures and slow calls). */
export interface RuleTally {
  /** Calls counted (for a consecutive rule: the current failure streak). */
  readonly calls: number;
  readonly failures: number;
  readonly slow: number;
}

/**
 * What a rule reads of the time: 'none' (neither `now` nor `durationMs`), 'end' (`now`
 * only), 'duration' (both). The breaker reads its clock only as much as the rule needs
 * (a clock read costs about as much as the rest of a closed-state call).
 */
export type RuleTiming = 'none' | 'end' | 'duration';

export interface TripRule<S = unknown> {
  /** For stats and messages: 'consecutive', 'count-window', 'time-window', 'any-of'. */
  readonly name: string;
  /** What `record()` reads of the time; the breaker passes 0 for what the rule does not read. */
  readonly timing: RuleTiming;
  /**
   * A call at least this long is slow, ms; `Infinity` when the rule does not judge latency.
   * The breaker also fails a half-open probe that took this long.
   */
  readonly slowCallMs: number;
  /** A fresh state, for the start of a closed period. */
  initial(now: number): S;
  /**
   * Record one finished call into `state` (mutated in place: this runs on every release)
   * and answer whether the breaker should open now.
   * @param failed outcome 'failure' or 'dropped'
   * @param durationMs grant to release, on the breaker's clock
   */
  record(state: S, failed: boolean, durationMs: number, now: number): boolean;
  /** What the rule counts now (time windows drop expired buckets first). */
  tally(state: S, now: number): RuleTally;
  /**
   * Check plain data (from an exported state, perhaps from another process) and return a
   * state, with every stored time moved by `deltaMs`. Throws InvalidArgumentError naming
   * `path` when the data is not a state of this rule.
   */
  restore(data: unknown, deltaMs: number, path: string): S;
}

/** How a rule option's error describes what it takes. */
export const TRIP_RULE_EXPECTED = 'a trip rule (consecutiveFailures(), countWindow(), timeWindow(), anyOf())';

/** Whether `value` has a trip rule's shape: its timing, and the calls a breaker (or anyOf) makes on it. */
export function isTripRule(value: unknown): value is TripRule {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Partial<Record<keyof TripRule, unknown>>;
  return typeof r.record === 'function' && typeof r.initial === 'function' && typeof r.tally === 'function' && (r.timing === 'none' || r.timing === 'end' || r.timing === 'duration');
}
