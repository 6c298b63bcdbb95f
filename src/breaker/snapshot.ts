/**
 * A breaker's state as plain data (JSON-safe), for a store to hold and another breaker (in
 * this or another process) to restore. Times are readings of the exporting breaker's clock;
 * see {@link CircuitBreaker.restoreState} for moving them onto another clock.
 */
import { InvalidArgumentError } from '../core/index.js';
import { asRecord, intAt, numberAt } from './plain-data.js';
import { deepFreeze } from '../core/deep-freeze.js';

export type BreakerState = 'closed' | 'open' | 'half-open' | 'forced-open' | 'disabled';

export const BREAKER_STATES: readonly BreakerState[] = deepFreeze(['closed', 'open', 'half-open', 'forced-open', 'disabled']);

export interface BreakerSnapshot {
  readonly version: 1;
  /** Clock reading when exported. */
  readonly takenAt: number;
  readonly state: BreakerState;
  /** When an open breaker lets its first probe through (clock time); 0 in other states. */
  readonly openUntil: number;
  /** Openings in a row without a close (the backoff exponent). */
  readonly opens: number;
  /** Resolved probes of the current half-open period (in-flight probes are not carried over). */
  readonly probeSuccesses: number;
  readonly probeFailures: number;
  /** Smoothed call latency, ms (the wait hinted to callers refused while probes are out). */
  readonly latencyMs: number;
  /** The trip rule's state, plain data. */
  readonly rule: unknown;
}

/** Check the fields a breaker reads; the rule checks its own part. */
export function readSnapshot(data: unknown): Omit<BreakerSnapshot, 'rule'> & { rule: unknown } {
  const o = asRecord(data, 'snapshot');
  if (o.version !== 1) throw new InvalidArgumentError('snapshot.version', '1', o.version);
  const state = o.state;
  if (typeof state !== 'string' || !(BREAKER_STATES as readonly string[]).includes(state)) {
    throw new InvalidArgumentError('snapshot.state', `one of ${BREAKER_STATES.join(', ')}`, state);
  }
  return {
    version: 1,
    takenAt: numberAt(o, 'takenAt', 'snapshot'),
    state: state as BreakerState,
    openUntil: numberAt(o, 'openUntil', 'snapshot'),
    opens: intAt(o, 'opens', 'snapshot'),
    probeSuccesses: intAt(o, 'probeSuccesses', 'snapshot'),
    probeFailures: intAt(o, 'probeFailures', 'snapshot'),
    latencyMs: numberAt(o, 'latencyMs', 'snapshot', 0),
    rule: o.rule,
  };
}
