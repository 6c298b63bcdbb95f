/**
 * Room on demand: a ConcurrencyGate's `reclaimer` option. Some permits hold a slot for work
 * that has stopped making progress for reasons of its own (the gateway's responses whose
 * clients do not read: their upstream waits on them, the slot stays taken). Their holder may
 * give such a slot up. The gate asks it at the moment a caller needs one:
 *
 * - in `admit`/`tryAdmit`, when the caller does not fit and its cost fits the limit at all,
 *   before it is queued or refused — only when the gate's limit as a whole is what keeps it
 *   out (`inFlight + cost > limit`). A caller held back by another partition's reserved share
 *   (priority partitions) asks nobody: a slot freed then goes to that partition's waiters,
 *   not to it, and a holder would have been cut for nothing.
 * - in `earlyRefusal` (and admit's own early refusal), without taking anything
 *   (`reclaimable`): a caller that room could be made for is not refused for the queue's wait.
 * - in `reclaimForWaiters()`, which the holder calls when it has room to give (its own timer):
 *   once for each waiter, while the limit as a whole is full.
 *
 * The gate decides whom the room is for: a release serves waiters already queued first, as
 * any release does. After a reload (`handOver`), a predecessor's permits count against its
 * successor; the successor's asks name them in `gates`, so what they hold is found too.
 */

/** What a reclaimer sees of a gate that asks it (a ConcurrencyGate). */
export interface SlotGate {
  readonly name: string;
  readonly inFlight: number;
  readonly limit: number;
  readonly queued: number;
  /** Ask the reclaimer for room for each waiter (ConcurrencyGate.reclaimForWaiters). */
  reclaimForWaiters(): number;
}

/** What a gate asks its reclaimer for. */
export interface ReclaimAsk {
  /** The gate that is full. */
  readonly gate: SlotGate;
  /** The gates whose permits count against `gate`: itself, then the gates it took the place of (handOver) that still hold some. */
  readonly gates: readonly SlotGate[];
  /** Units the caller lacks: release at least this many to let it in. */
  readonly units: number;
  /** The caller's partition (its `ctx.partition`, or the gate's default). */
  readonly partition: string;
}

export interface SlotReclaimer {
  /** Whether `reclaim(ask)` would give up a slot now. No side effect. */
  reclaimable(ask: ReclaimAsk): boolean;
  /**
   * Give up at least `ask.units` units of permits of `ask.gates`: release them (with outcome
   * 'ignored': the work did not end on its own) before returning. True when any was released.
   * Released later instead, the room goes to whoever waits then (a caller without a queue is
   * refused meanwhile).
   */
  reclaim(ask: ReclaimAsk): boolean;
}
