/**
 * A concurrency gate handing its place to the gate that replaced it (ConcurrencyGate.handOver,
 * a reload): so that one limit holds across the two, the units still in flight at the old gate
 * count against the new one until they are released, its waiters move there oldest first, and
 * a caller that still reaches the old gate is the new one's. A gate may be handed over once and
 * take over from one gate; the line grows with each reload (a <- b <- c).
 */
import { InvalidArgumentError } from '../core/index.js';
import type { Admission, AdmissionContext } from '../core/index.js';
import type { Entry } from '../discipline/index.js';
import type { Partition } from './partition.js';
import type { Waiter } from './waiter.js';

/** One gate's links in its line: the gate after it and the gates before it. */
export class Succession<G extends { readonly name: string }> {
  /** The gate that took this one's place: its callers are sent there, and its releases count there too. */
  successor: G | undefined = undefined;
  /** The gates whose place this one took, newest first: their permits in flight count here. */
  #predecessors: G[] = [];
  /** `[self]`, once a gate has no predecessor holding permits (`self` is always the gate this succession is of). */
  #alone: readonly G[] | undefined;

  /**
   * Links `from` (whose succession this is) to `to` (whose succession is `theirs`): `to` takes
   * over `from`'s predecessors. Throws when they are the same gate, or either was handed on before.
   */
  link(from: G, to: G, theirs: Succession<G>): void {
    if (to === from || this.successor !== undefined || theirs.successor !== undefined) throw new InvalidArgumentError('successor', 'another gate, handed nothing before', to.name);
    this.successor = to;
    theirs.#predecessors.unshift(from, ...this.#predecessors);
  }

  /**
   * `self` and the predecessors whose permits are still in flight (`holding`): the gates whose
   * slots a reclaimer may take for a caller of `self`. A predecessor whose permits all came back
   * holds nothing more and is forgotten.
   */
  lineage(self: G, holding: (gate: G) => boolean): readonly G[] {
    if (this.#predecessors.length > 0) this.#predecessors = this.#predecessors.filter(holding);
    // Asked at every early refusal (a reclaimer's ask): a gate with no predecessor left gives one list, not a new one each.
    if (this.#predecessors.length === 0) return (this.#alone ??= Object.freeze([self]));
    return [self, ...this.#predecessors];
  }
}

/** Every waiter of `partitions`, taken out of their queues, oldest first: the order they move to a successor in. */
export function drainOldestFirst(partitions: readonly Partition<Waiter>[]): Entry<Waiter>[] {
  return partitions.flatMap((p) => p.queue.drain()).sort((a, b) => a.enqueuedAt - b.enqueuedAt);
}

/** Waiters moved to the gate that took their gate's place: each served, queued or refused there as a newcomer would be. */
export function readmit(waiters: readonly Entry<Waiter>[], gate: { admit(ctx: AdmissionContext): Admission | Promise<Admission> }): void {
  for (const { value: w } of waiters) {
    try {
      const a = gate.admit(w.ctx);
      if (a instanceof Promise) a.then(w.resolve, w.reject);
      else w.resolve(a);
    } catch (err) {
      w.reject(err);
    }
  }
}
