/**
 * Priority partitions, in the manner of Netflix's AbstractPartitionedLimiter: each partition
 * is guaranteed `floor(limit * share)` slots and may burst into capacity nobody else needs.
 *
 * Unlike Netflix's limiter, the total never exceeds the limit: a partition bursting past its
 * guarantee may only use capacity not reserved for *waiting* partitions that are below their
 * own guarantee. So under contention every partition gets its share as permits are released,
 * and when the others are idle one partition can use everything.
 */
import type { Discipline } from '../discipline/index.js';

export interface PartitionOption {
  /** Guaranteed fraction of the limit, in (0, 1]; the shares of all partitions sum to <= 1. */
  readonly share: number;
}

export class Partition<W> {
  inFlight = 0;
  guarantee = 0;
  constructor(
    readonly name: string,
    readonly share: number,
    readonly queue: Discipline<W>,
  ) {}

  resize(limit: number): void {
    this.guarantee = Math.floor(limit * this.share);
  }

  /** Unused guaranteed slots this partition holds back for its own waiters. */
  get reserved(): number {
    return this.queue.size > 0 && this.inFlight < this.guarantee ? this.guarantee - this.inFlight : 0;
  }
}

/** A ConcurrencyGate's permit tag when an algorithm is set: in-flight at grant is part of the sample. */
export class Sampled<W> {
  constructor(
    readonly partition: Partition<W>,
    readonly inFlight: number,
  ) {}
}
