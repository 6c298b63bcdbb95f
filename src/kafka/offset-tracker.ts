/**
 * At-least-once commits for one partition: messages finish out of order (concurrent
 * handlers), but Kafka commits one offset per partition meaning "everything before this is
 * done". So the committable offset is the lowest offset still unfinished, or one past the
 * highest finished when nothing is pending:
 *
 *     committable = min(pending)            if pending ≠ ∅
 *                 = highestFinished + 1     otherwise
 *
 * A crash re-delivers from there: finished messages above a pending one may run twice
 * (counted as duplicates), nothing is skipped.
 */
export class OffsetTracker {
  readonly #pending = new Set<bigint>();
  /** Finished, at or above the committed offset: read again by the group were this member to go now. */
  readonly #finished = new Set<bigint>();
  #min: bigint | undefined;
  #next: bigint | undefined;
  #committed: bigint | undefined;

  /** A message was taken from the partition. */
  track(offset: bigint): void {
    this.#pending.add(offset);
    if (this.#min === undefined || offset < this.#min) this.#min = offset;
  }

  /** Its handler finished and it was settled (acked or dead-lettered). */
  done(offset: bigint): void {
    if (!this.#pending.delete(offset)) return;
    if (this.#committed === undefined || offset >= this.#committed) this.#finished.add(offset);
    if (this.#next === undefined || offset + 1n > this.#next) this.#next = offset + 1n;
    if (offset === this.#min) {
      let m: bigint | undefined;
      for (const o of this.#pending) if (m === undefined || o < m) m = o;
      this.#min = m;
    }
  }

  get pending(): number {
    return this.#pending.size;
  }

  /** Messages finished and not yet covered by a committed offset (one above an unfinished one stays so until it finishes). */
  get uncommitted(): number {
    return this.#finished.size;
  }

  /** The offset to commit now, or undefined when nothing new is committable. */
  committable(): bigint | undefined {
    const c = this.#min ?? this.#next;
    if (c === undefined || (this.#committed !== undefined && c <= this.#committed)) return undefined;
    return c;
  }

  /** Where the group would resume now: the lowest unfinished offset, or one past the highest finished; undefined before any. */
  position(): bigint | undefined {
    return this.#min ?? this.#next;
  }

  /** The broker accepted a commit of `offset`. */
  committed(offset: bigint): void {
    if (this.#committed === undefined || offset > this.#committed) this.#committed = offset;
    for (const o of this.#finished) if (o < this.#committed) this.#finished.delete(o);
  }
}
