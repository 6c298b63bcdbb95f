/**
 * What a KafkaSource commits for its group, per assigned partition: the lowest unfinished
 * offset (OffsetTracker) and, in that offset's metadata, the failed attempts of the messages not
 * finished yet (AttemptLedger). Kafka replaces the metadata with every commit, so every commit
 * carries the partition's failures; a failure alone commits the same offset again.
 */
import type { Admin, Consumer } from 'kafkajs';
import { AttemptLedger } from './attempt-ledger.js';
import { OffsetTracker } from './offset-tracker.js';

export class GroupCommits {
  readonly #topic: string;
  readonly #groupId: string;
  readonly #trackers = new Map<number, OffsetTracker>();
  readonly #ledger = new AttemptLedger();
  #generation = 0;
  /** The ledger's load at the last group join: the fetch loop waits for it before taking messages. */
  #loaded: Promise<void> = Promise.resolve();
  #committing: Promise<void> = Promise.resolve();
  #errors = 0;
  #lastError: string | undefined;

  readonly #consumer: Consumer;
  /** Commits kafkajs told (COMMIT_OFFSETS) the coordinator took. */
  #stored = 0;

  constructor(topic: string, groupId: string, consumer: Consumer) {
    this.#topic = topic;
    this.#groupId = groupId;
    this.#consumer = consumer;
    consumer.on(consumer.events.COMMIT_OFFSETS, () => void this.#stored++);
  }

  /**
   * A group join (`generation`, the partitions now `assigned`): what was tracked may belong to
   * another member now; the failures are read back from what the group committed. Unreadable (the
   * coordinator moving): counted from 1 in this process rather than holding the fetch loop.
   */
  rejoined(generation: number, assigned: readonly number[], admin: Admin): void {
    this.#generation = generation;
    this.#trackers.clear();
    this.#loaded = (async () => {
      const read = await admin.fetchOffsets({ groupId: this.#groupId, topics: [this.#topic] }).catch(() => []);
      if (generation !== this.#generation) return;
      const mine = new Set(assigned);
      const metadata = new Map<number, string | null>();
      for (const p of read[0]?.partitions ?? []) if (mine.has(p.partition)) metadata.set(p.partition, p.metadata);
      this.#ledger.load(metadata);
    })();
  }

  /** Resolves once the failures committed before the last join are known. */
  get loaded(): Promise<void> {
    return this.#loaded;
  }

  /** A message was taken: tracked unfinished; its attempt (1 + the failures committed for it). */
  took(partition: number, offset: bigint): number {
    const tracker = this.#trackers.get(partition) ?? new OffsetTracker();
    this.#trackers.set(partition, tracker);
    tracker.track(offset);
    return this.#ledger.failures(partition, offset) + 1;
  }

  /** Settled (acked or dead-lettered). */
  done(partition: number, offset: bigint): void {
    this.#trackers.get(partition)?.done(offset);
  }

  /** Its `attempt`-th attempt failed: recorded, for the next commit. */
  failed(partition: number, offset: bigint, attempt: number): void {
    this.#ledger.failed(partition, offset, attempt);
  }

  /**
   * Commit what changed on every partition; a commit refused (a rebalance in progress, the broker
   * unreachable) is left to the next one, or the new owner. kafkajs resolves a commit it did not
   * send — its consumer not running, after a crash it restarts from (the broker gone) — so only
   * one the coordinator took (its COMMIT_OFFSETS event) counts as stored.
   */
  commit(): Promise<void> {
    const consumer = this.#consumer;
    this.#committing = this.#committing.then(async () => {
      const offsets: { topic: string; partition: number; offset: string; metadata: string | null }[] = [];
      for (const [partition, t] of this.#trackers) {
        const offset = t.committable() ?? (this.#ledger.dirty(partition) ? t.position() : undefined);
        if (offset !== undefined) offsets.push({ topic: this.#topic, partition, offset: String(offset), metadata: this.#ledger.take(partition, offset) });
      }
      if (offsets.length === 0) return;
      try {
        const stored = this.#stored;
        await consumer.commitOffsets(offsets);
        if (this.#stored === stored) throw new Error('kafkajs did not send the commit: its consumer is not running (a crash it restarts from: the broker unreachable)');
        for (const o of offsets) this.#trackers.get(o.partition)?.committed(BigInt(o.offset));
      } catch (err) {
        this.#errors++;
        this.#lastError = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        for (const o of offsets) this.#ledger.unsent(o.partition);
      }
    });
    return this.#committing;
  }

  /** Commits the broker refused or never answered, and the last one's error. */
  get errors(): { readonly count: number; readonly last: string | undefined } {
    return { count: this.#errors, last: this.#lastError };
  }

  /** Messages finished on the partitions held now whose offsets no commit has stored yet. */
  uncommitted(): number {
    let n = 0;
    for (const t of this.#trackers.values()) n += t.uncommitted;
    return n;
  }
}
