/** Circuit breaker options: one interface, one defaults constant, validated once. */
import { InvalidOptionError, optFunction, optInt, optionKeys, optKnownKeys, optNumber } from '../core/index.js';
import type { GateOptions, Outcome } from '../core/index.js';
import { consecutiveFailures } from './consecutive.js';
import type { TripRule } from './trip-rule.js';
import { isTripRule, TRIP_RULE_EXPECTED } from './trip-rule.js';
import { deepFreeze } from '../core/deep-freeze.js';

export interface BreakerOptions extends GateOptions {
  /**
   * When a closed breaker opens: `consecutiveFailures()`, `countWindow()`, `timeWindow()`,
   * or `anyOf(...)` of them. @default consecutiveFailures({ threshold: 5 })
   */
  readonly rule?: TripRule;
  /** Time open before the first probe, ms. > 0, finite. @default 10_000 */
  readonly openMs?: number;
  /**
   * Growth of the open time per opening in a row (a probe failed again):
   * min(maxOpenMs, openMs × openBackoff^(n−1)). >= 1; 1 keeps it fixed. @default 1
   */
  readonly openBackoff?: number;
  /** Cap of a backing-off open time, ms. >= openMs; only with openBackoff > 1. @default max(120_000, openMs) */
  readonly maxOpenMs?: number;
  /** Probe calls admitted per half-open period; other callers are rejected meanwhile. Integer >= 1. @default 1 */
  readonly probes?: number;
  /**
   * Probe successes that close the breaker. Integer in [1, probes]. The breaker opens
   * again as soon as more than probes − probeSuccesses probes failed (a probe fails on
   * 'failure', 'dropped', or taking at least the rule's slowCallMs). @default probes
   */
  readonly probeSuccesses?: number;
  /** `execute()`: the outcome of a returned value. @default () => 'success' */
  readonly classify?: (result: unknown) => Outcome;
  /** `execute()`: the outcome of a thrown error ('ignored' does not count it). @default () => 'failure' */
  readonly classifyError?: (error: unknown) => Outcome;
}

export const BREAKER_DEFAULTS = deepFreeze({ openMs: 10_000, openBackoff: 1, maxOpenMs: 120_000, probes: 1 } as const);

export interface BreakerConfig {
  readonly rule: TripRule;
  readonly openMs: number;
  readonly openBackoff: number;
  readonly maxOpenMs: number;
  readonly probes: number;
  readonly probeSuccesses: number;
  readonly classify: ((result: unknown) => Outcome) | undefined;
  readonly classifyError: ((error: unknown) => Outcome) | undefined;
}

const BREAKER_KEYS = optionKeys<BreakerOptions>({
  name: true,
  clock: true,
  rule: true,
  openMs: true,
  openBackoff: true,
  maxOpenMs: true,
  probes: true,
  probeSuccesses: true,
  classify: true,
  classifyError: true,
});

export function breakerConfig(o: BreakerOptions): BreakerConfig {
  optKnownKeys('CircuitBreaker', o, BREAKER_KEYS);
  const openMs = optNumber('openMs', o.openMs ?? BREAKER_DEFAULTS.openMs, Number.MIN_VALUE, Number.MAX_VALUE);
  const openBackoff = optNumber('openBackoff', o.openBackoff ?? BREAKER_DEFAULTS.openBackoff, 1, Number.MAX_VALUE);
  if (o.maxOpenMs !== undefined && openBackoff === 1) {
    throw new InvalidOptionError('maxOpenMs', 'openBackoff > 1 (a fixed open time has nothing to cap)', o.maxOpenMs);
  }
  const maxOpenMs = optNumber('maxOpenMs', o.maxOpenMs ?? Math.max(BREAKER_DEFAULTS.maxOpenMs, openMs), Number.MIN_VALUE, Number.MAX_VALUE);
  if (openMs > maxOpenMs) {
    // Both given, or maxOpenMs below openMs's default: the message names both, and blames the one set.
    if (o.openMs !== undefined) throw new InvalidOptionError('openMs', `a number <= maxOpenMs (${maxOpenMs})`, openMs);
    throw new InvalidOptionError('maxOpenMs', `a number >= openMs (${openMs}, its default)`, maxOpenMs);
  }
  const probes = optInt('probes', o.probes ?? BREAKER_DEFAULTS.probes, 1, Number.MAX_SAFE_INTEGER);
  const probeSuccesses = optInt('probeSuccesses', o.probeSuccesses ?? probes, 1, probes);
  const rule = o.rule ?? consecutiveFailures();
  if (!isTripRule(rule)) throw new InvalidOptionError('rule', TRIP_RULE_EXPECTED, rule);
  for (const name of ['classify', 'classifyError'] as const) optFunction(name, o[name]);
  return { rule, openMs, openBackoff, maxOpenMs, probes, probeSuccesses, classify: o.classify, classifyError: o.classifyError };
}
