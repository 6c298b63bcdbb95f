/**
 * A caller queued by a ConcurrencyGate. The Waiter is the discipline entry's value; a waiter
 * with a deadline or an AbortSignal also has a {@link Watch}, its node in the gate's deadline
 * queue and its link in the list of its signal's waiters. So the queued path allocates the
 * Waiter, the discipline's Entry, the Promise (and a Watch when bounded) — no closure, timer
 * or listener per waiter. Kept small on purpose: with 100k callers queued, bytes per waiter
 * are what the scavenger copies.
 */
import type { Admission, AdmissionContext } from '../core/index.js';
import type { Entry } from '../discipline/index.js';
import type { DeadlineNode } from './deadline-queue.js';
import type { Partition } from './partition.js';
import type { SignalMember, SignalWaiters } from '../core/signal-waiters.js';

export class Waiter {
  entry: Entry<Waiter> | undefined = undefined;
  /** Set when the wait has a deadline or a signal. */
  watch: Watch | undefined = undefined;
  /** Its place in the queue when it joined (1 = first): the observed wait is per position. */
  position = 0;

  constructor(
    readonly ctx: AdmissionContext,
    readonly cost: number,
    readonly partition: Partition<Waiter>,
    readonly resolve: (a: Admission) => void,
    readonly reject: (e: unknown) => void,
  ) {}
}

/** What bounds a wait: its deadline (in the gate's deadline queue) and its signal (on the signal's list). */
export class Watch implements DeadlineNode<Watch>, SignalMember<Watch> {
  /** Place in the deadline queue; -1 when not in it (no deadline, or gone). */
  index = -1;
  prevByDeadline: Watch | undefined = undefined;
  nextByDeadline: Watch | undefined = undefined;
  /** The list of waiters sharing the signal, while on it. */
  group: SignalWaiters<Watch> | undefined = undefined;
  prevOfSignal: Watch | undefined = undefined;
  nextOfSignal: Watch | undefined = undefined;

  constructor(
    readonly waiter: Waiter,
    /** Absolute time by which the waiter must be served; Infinity: none. */
    readonly deadline: number,
    /** Arrival order within the gate: breaks deadline ties, as per-waiter timers fired in creation order. */
    readonly seq: number,
  ) {}
}

/**
 * `new Promise(capture)` leaves the promise's settlers in `settlers`: one shared executor, so
 * a waiter's promise costs no closure. The executor runs synchronously inside the constructor;
 * read `settlers` right after it.
 */
export const settlers: { resolve: (a: Admission) => void; reject: (e: unknown) => void } = { resolve: () => {}, reject: () => {} };
export function capture(resolve: (a: Admission) => void, reject: (e: unknown) => void): void {
  settlers.resolve = resolve;
  settlers.reject = reject;
}
