/**
 * A channel's counters and events: every admission, refusal and drop is counted and, when
 * someone listens, emitted through the EventHub (and so `node:diagnostics_channel`). Drops
 * also reach the `onDrop` callback. Event objects are built only for listeners.
 */
import type { Clock } from '../core/clock.js';
import { EventHub } from '../core/events.js';
import { REJECTION_REASONS } from '../core/types.js';
import type { Rejection, RejectionReason } from '../core/types.js';
import { DROP_POLICIES } from './options.js';
import type { DisciplineName } from '../discipline/create.js';
import type { DrainEstimate } from './drain-estimate.js';
import type { DropPolicy, OverflowStrategy } from './options.js';
import type { ChannelStats } from './types.js';
import { warnListenerError } from '../core/listener-error.js';

export class ChannelMeter<T> {
  readonly events = new EventHub();
  /** Puts accepted (buffered or handed to a take). */
  accepted = 0;
  taken = 0;
  peak = 0;
  dropped = 0;
  undelivered = 0;
  aborted = 0;
  takeTimeouts = 0;
  readonly rejected = counts(REJECTION_REASONS);
  readonly droppedBy = counts(DROP_POLICIES);

  constructor(
    readonly name: string,
    readonly clock: Clock,
    readonly onDrop: ((item: T, policy: DropPolicy) => void) | undefined,
  ) {}

  /** The counters as the stats snapshot names them (copies: the snapshot is plain data). */
  counters(): Pick<ChannelStats, 'admitted' | 'released' | 'rejected' | 'dropped' | 'peakSize' | 'taken' | 'droppedBy' | 'undelivered' | 'aborted' | 'takeTimeouts'> {
    return {
      admitted: this.accepted,
      released: this.taken,
      rejected: { ...this.rejected },
      dropped: this.dropped,
      peakSize: this.peak,
      taken: this.taken,
      droppedBy: { ...this.droppedBy },
      undelivered: this.undelivered,
      aborted: this.aborted,
      takeTimeouts: this.takeTimeouts,
    };
  }

  /** The stats snapshot: the counters plus the channel's state now. */
  snapshot(size: number, capacity: number, closed: boolean, blockedPuts: number, waitingTakes: number, drain: DrainEstimate, overflow: OverflowStrategy, discipline: DisciplineName): ChannelStats {
    return {
      ...this.counters(),
      name: this.name,
      kind: 'channel',
      inFlight: 0,
      queued: size,
      limit: capacity,
      tokens: undefined,
      closed,
      capacity,
      size,
      blockedPuts,
      waitingTakes,
      drainRatePerSec: drain.ratePerSec(this.clock.now(), this.taken),
      overflow,
      discipline,
    };
  }

  /** Count, emit and return a refusal of a put. */
  reject(reason: RejectionReason, retryAfterMs: number, who: { readonly key?: string | undefined } | undefined): Rejection {
    this.rejected[reason]++;
    if (this.events.wants('reject')) {
      this.events.emit({ type: 'reject', gate: this.name, kind: 'channel', at: this.clock.now(), key: who?.key, reason, retryAfterMs });
    }
    return { ok: false, gate: this.name, reason, retryAfterMs, facts: undefined };
  }

  /** Count an accepted put; emit when someone listens. `since`: when it started waiting, NaN if unknown or not waiting. */
  admitted(key: string | undefined, priority: number, since: number): void {
    this.accepted++;
    if (!this.events.wants('admit')) return;
    const at = this.clock.now();
    this.events.emit({ type: 'admit', gate: this.name, kind: 'channel', at, key, priority, cost: 1, waitedMs: since === since ? at - since : 0 });
  }

  /** Count and report one dropped item. Never silent. */
  drop(item: T, policy: DropPolicy): void {
    this.dropped++;
    this.droppedBy[policy]++;
    if (this.events.wants('drop')) {
      this.events.emit({ type: 'drop', gate: this.name, kind: 'channel', at: this.clock.now(), policy, count: 1 });
    }
    const onDrop = this.onDrop;
    if (onDrop === undefined) return;
    try {
      onDrop(item, policy);
    } catch (err) {
      // The drop already happened; a failing callback must not undo or hide it.
      warnListenerError(`onDrop of ${this.name} threw`, err);
    }
  }
}

function counts<K extends string>(keys: readonly K[]): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const k of keys) out[k] = 0;
  return out;
}
