/** The channel's call and result shapes. */
import type { AdmissionContext, GateStats } from '../core/types.js';
import { optionKeys } from '../core/option-keys.js';
import type { DisciplineName } from '../discipline/create.js';
import type { DropPolicy, OverflowStrategy } from './options.js';

/**
 * What happened to a put's item:
 * - `'accepted'`: it is in the channel (buffered, or handed straight to a waiting take).
 * - `'dropped'`: overflow 'drop-newest' discarded it; it was also reported to `onDrop`, the
 *   `'drop'` event and `stats().droppedBy`.
 * Refusals (full, timeout, closed, abort) are not results: `put` rejects, `tryPut` returns a Rejection.
 */
export type PutResult = 'accepted' | 'dropped';

/** `putMany`'s answer: how many items went in and how many the overflow policy dropped (each also reported to `onDrop`). */
export interface PutManyResult {
  readonly accepted: number;
  readonly dropped: number;
}

/**
 * `putMany`'s rejection: the refusal of the first item not placed (ClosedError, RejectedError,
 * AbortedError, ...), carrying the counts of the items before it.
 */
export type PutManyRefusal = Error & PutManyResult;

/** A put's context: `priority` orders items under the 'priority' discipline; deadline and signal bound a blocked put. */
export type PutContext = Pick<AdmissionContext, 'key' | 'priority' | 'deadline' | 'maxWaitMs' | 'signal'>;

/** A take's context: how long it may wait for an item, and its AbortSignal. */
export type TakeContext = Pick<AdmissionContext, 'deadline' | 'maxWaitMs' | 'signal'>;

/** A put's and a take's context keys: a take has no key or priority to give. */
export const PUT_KEYS = optionKeys<PutContext>({ key: true, priority: true, deadline: true, maxWaitMs: true, signal: true });
export const TAKE_KEYS = optionKeys<TakeContext>({ deadline: true, maxWaitMs: true, signal: true });

/** `tryTake()`'s answer. `done`: the channel is closed and drained; otherwise it is merely empty now. */
export type TakeResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly done: boolean };

/**
 * A stats snapshot. The GateStats fields read as: `queued` = items buffered, `limit` =
 * capacity, `admitted` = puts accepted, `released` = items taken, `inFlight` = 0 (a channel
 * does not follow an item after its take), `tokens` = undefined, `rejected` = put refusals by
 * reason, `dropped` = items dropped by any policy.
 */
export interface ChannelStats extends GateStats {
  readonly kind: 'channel';
  readonly capacity: number;
  /** Items buffered now (= queued). */
  readonly size: number;
  /** Most items buffered at once since construction. */
  readonly peakSize: number;
  /** Puts waiting for a slot (overflow 'block'). */
  readonly blockedPuts: number;
  /** Takes (including async iterators' `next()`) waiting for an item. */
  readonly waitingTakes: number;
  /** Items taken (= released). */
  readonly taken: number;
  readonly droppedBy: Readonly<Record<DropPolicy, number>>;
  /** Items returned by `closeNow()` instead of being taken. */
  readonly undelivered: number;
  /** Puts and takes ended by their AbortSignal. */
  readonly aborted: number;
  /** Takes whose deadline passed before an item arrived. */
  readonly takeTimeouts: number;
  /** Observed take rate, items per second, over the last one to two seconds sampled (see DrainEstimate). */
  readonly drainRatePerSec: number;
  readonly overflow: OverflowStrategy;
  readonly discipline: DisciplineName;
}
