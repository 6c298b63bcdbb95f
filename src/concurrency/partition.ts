/**
 * Priority partitions, in the manner of Netflix's AbstractPartitionedLimiter: each partition
 * is guaranteed `floor(limit * share)` slots and may burst into capacity nobody else needs.
 *
 * Unlike Netflix's limiter, the total never exceeds the limit: a partition bursting past its
 * guarantee may only use capacity not reserved for *waiting* partitions that are below their
 * own guarantee. So under contention every partition gets its share as permits are released,
 * and when the others are idle one partition can use everything.
 */
import { InvalidArgumentError } from '../core/index.js';
import type { Discipline, Entry, EvictFn } from '../discipline/index.js';

export interface PartitionOption {
  /** Guaranteed fraction of the limit, in (0, 1]; the shares of all partitions sum to <= 1. */
  readonly share: number;
}

export class Partition<W> {
  /** Units granted here and not yet released, ballast included: what the limit and the guarantees count. */
  inFlight = 0;
  /** Units of inFlight held as ballast (ConcurrencyGate.hold): no request runs on them, so the gate's stats leave them out. */
  held = 0;
  guarantee = 0;
  constructor(
    readonly name: string,
    readonly share: number,
    readonly queue: Discipline<W>,
  ) {}

  take(cost: number, held: boolean): void {
    this.inFlight += cost;
    if (held) this.held += cost;
  }

  release(cost: number, held: boolean): void {
    this.inFlight -= cost;
    if (held) this.held -= cost;
  }

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

/** What a partition's waiter is for the helpers below: its cost. */
interface Costed {
  readonly cost: number;
}

/** Whether a caller of `cost` in `p` may take a slot now: the limit, less what waiting partitions below their guarantee hold back. */
export function fitsIn<W>(partitions: readonly Partition<W>[], p: Partition<W>, cost: number, inFlight: number, limit: number): boolean {
  if (inFlight + cost > limit) return false;
  if (partitions.length === 1 || p.inFlight + cost <= p.guarantee) return true;
  let reserved = 0;
  for (const q of partitions) if (q !== p) reserved += q.reserved;
  return inFlight + cost + reserved <= limit;
}

/**
 * The next waiter to serve that fits now (`fits`), or undefined: partitions below their
 * guarantee first, then the longest-waiting head. A head whose cost exceeds `limit` is
 * returned too (the gate refuses it at once: it must not block those behind it).
 */
export function nextFitting<W extends Costed>(partitions: readonly Partition<W>[], limit: number, now: number, fits: (p: Partition<W>, cost: number) => boolean, evict: EvictFn<W>): Entry<W> | undefined {
  let best: Entry<W> | undefined;
  let bestStarved = false;
  for (const p of partitions) {
    const e = p.queue.peek(now, evict);
    if (e === undefined) continue;
    if (e.value.cost > limit) return e;
    if (!fits(p, e.value.cost)) continue;
    const starved = p.inFlight < p.guarantee;
    if (best === undefined || (starved && !bestStarved) || (starved === bestStarved && e.enqueuedAt < best.enqueuedAt)) {
      best = e;
      bestStarved = starved;
    }
  }
  return best;
}

/** The head that has waited longest across the partitions, looked at without evicting anything. */
export function oldestHead<W>(partitions: readonly Partition<W>[]): { readonly value: W; readonly partition: Partition<W> } | undefined {
  let best: { value: W; partition: Partition<W>; at: number } | undefined;
  for (const p of partitions) {
    const e = p.queue.peek();
    if (e !== undefined && (best === undefined || e.enqueuedAt < best.at)) best = { value: e.value, partition: p, at: e.enqueuedAt };
  }
  return best;
}

/** A caller named a partition the gate does not have. */
export function partitionMissing(byName: ReadonlyMap<string, unknown>, name: string): never {
  throw new InvalidArgumentError('partition', `one of ${[...byName.keys()].join(', ')}`, name);
}
