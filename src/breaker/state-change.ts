/**
 * Breaker state changes, beside the gate's admit/reject/release events: a per-breaker
 * listener list and the process-wide `node:diagnostics_channel` channel
 * `sluice:breaker:state` (zero cost without subscribers).
 */
import dc from 'node:diagnostics_channel';
import type { BreakerState } from './snapshot.js';

/** Why the state changed. */
export type StateChangeCause =
  /** The trip rule fired (closed → open). */
  | 'rule'
  /** The open time ran out (open → half-open); seen at the first admission or read after it. */
  | 'timer'
  /** Probes decided (half-open → closed or open). */
  | 'probe'
  /** `trip()`, `halfOpen()`, `isolate()`, `disable()`, `reset()`. */
  | 'operator'
  /** `restoreState()`. */
  | 'restore';

export interface BreakerStateChange {
  readonly breaker: string;
  /** The breaker's gate kind ('circuit-breaker'), for filters that take a name and a kind. */
  readonly kind: string;
  readonly from: BreakerState;
  readonly to: BreakerState;
  readonly cause: StateChangeCause;
  /** Breaker clock time of the change. */
  readonly at: number;
  /** Entering 'open': when the first probe will be let through (clock time); otherwise undefined. */
  readonly openUntil: number | undefined;
}

export type StateChangeListener = (change: BreakerStateChange) => void;

export const breakerStateChannel = dc.channel('sluice:breaker:state');
