/**
 * Admission events: one per decision, through `node:diagnostics_channel` (process-wide,
 * zero cost without subscribers) and a per-gate listener API. Event objects are built only
 * when someone listens.
 */
import dc from 'node:diagnostics_channel';
import type { Outcome, RejectionReason } from './types.js';
import { tellListener } from './listener-error.js';
import { deepFreeze } from './deep-freeze.js';

interface EventBase {
  readonly gate: string;
  readonly kind: string;
  /** Gate clock time of the decision, ms. */
  readonly at: number;
}

export interface AdmitEvent extends EventBase {
  readonly type: 'admit';
  readonly key: string | undefined;
  readonly priority: number;
  readonly cost: number;
  /** Time spent waiting before the grant, ms (0 when immediate). */
  readonly waitedMs: number;
}

export interface RejectEvent extends EventBase {
  readonly type: 'reject';
  readonly key: string | undefined;
  readonly reason: RejectionReason;
  readonly retryAfterMs: number;
}

export interface ReleaseEvent extends EventBase {
  readonly type: 'release';
  readonly outcome: Outcome;
  /** From grant to release, on the gate's clock. */
  readonly latencyMs: number;
}

/** An item or waiter the gate had accepted and then removed by policy. Never silent. */
export interface DropEvent extends EventBase {
  readonly type: 'drop';
  /** Which policy dropped it: 'drop-newest', 'drop-oldest', 'drop-random', 'codel', ... */
  readonly policy: string;
  readonly count: number;
}

export type GateEvent = AdmitEvent | RejectEvent | ReleaseEvent | DropEvent;
export type GateListener = (event: GateEvent) => void;

/** Channel names, stable: `sluice:admit`, `sluice:reject`, `sluice:release`, `sluice:drop`. */
export const diagnosticsChannels = deepFreeze({
  admit: dc.channel('sluice:admit'),
  reject: dc.channel('sluice:reject'),
  release: dc.channel('sluice:release'),
  drop: dc.channel('sluice:drop'),
} as const);

/** Per-gate listener list plus the process-wide channels. */
export class EventHub {
  #listeners: GateListener[] = [];

  /** Subscribe; returns the unsubscribe function. */
  on(listener: GateListener): () => void {
    this.#listeners = [...this.#listeners, listener];
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  /** Whether an event of this type would reach anyone; check before building the event. */
  wants(type: GateEvent['type']): boolean {
    return this.#listeners.length > 0 || diagnosticsChannels[type].hasSubscribers;
  }

  emit(event: GateEvent): void {
    const ch = diagnosticsChannels[event.type];
    if (ch.hasSubscribers) ch.publish(event);
    // A listener must not break admission: its failure is a warning.
    for (const l of this.#listeners) tellListener(l, event, 'a gate listener');
  }
}
