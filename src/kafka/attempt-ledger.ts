/**
 * Failed attempts of a partition's unfinished messages, kept where the group keeps its
 * position: the metadata string of the partition's committed offset. Kafka has no delivery
 * counter, and a count kept only in the process starts over at every restart, so a message whose
 * handler always throws would be retried for ever by a consumer that keeps being restarted.
 * Written with the offset (the same commit, so the two never disagree), read back at every group
 * join — a restarted consumer, or the member a rebalance hands the partition to, goes on counting.
 *
 * The metadata is `sluice-attempts:` + JSON `{ "<offset>": failures }` for offsets at or past
 * the committed one (below it everything is done). Kafka refuses a commit whose metadata passes
 * `offset.metadata.max.bytes` (4096 by default), which would stop the offset moving too: the
 * lowest offsets are kept within METADATA_MAX_CHARS and the rest counted in this process only.
 * A metadata string of anyone else's is ignored (and replaced at the next commit).
 */

const PREFIX = 'sluice-attempts:';
/** Well under Kafka's default offset.metadata.max.bytes (4096), about 80 entries. */
export const METADATA_MAX_CHARS = 1024;

/** The failures recorded in a committed offset's metadata, by offset; empty for none or a foreign string. */
export function parseAttempts(metadata: string | null | undefined): Map<bigint, number> {
  const out = new Map<bigint, number>();
  if (typeof metadata !== 'string' || !metadata.startsWith(PREFIX)) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(metadata.slice(PREFIX.length));
  } catch {
    return out;
  }
  if (typeof parsed !== 'object' || parsed === null) return out;
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (!/^\d+$/.test(k) || typeof v !== 'number' || !Number.isInteger(v) || v < 1) continue;
    out.set(BigInt(k), v);
  }
  return out;
}

/** One partition's failures as commit metadata: offsets >= `from`, the lowest first, within METADATA_MAX_CHARS; null when none. */
export function formatAttempts(failures: ReadonlyMap<bigint, number>, from: bigint): string | null {
  const kept = [...failures].filter(([o]) => o >= from).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const parts: string[] = [];
  let size = PREFIX.length + 2;
  for (const [o, n] of kept) {
    const part = `"${o}":${n}`;
    if (size + part.length + 1 > METADATA_MAX_CHARS) break;
    parts.push(part);
    size += part.length + 1;
  }
  return parts.length === 0 ? null : `${PREFIX}{${parts.join(',')}}`;
}

/** The failures of the assigned partitions' unfinished messages, and which partitions changed since their last commit. */
export class AttemptLedger {
  readonly #failures = new Map<number, Map<bigint, number>>();
  readonly #dirty = new Set<number>();

  /** A group join: what the committed metadata says, for the partitions now assigned (all else forgotten). */
  load(partitions: ReadonlyMap<number, string | null>): void {
    this.#failures.clear();
    this.#dirty.clear();
    for (const [p, metadata] of partitions) {
      const f = parseAttempts(metadata);
      if (f.size > 0) this.#failures.set(p, f);
    }
  }

  /** Failed attempts recorded for the message at `offset` (0 for none). */
  failures(partition: number, offset: bigint): number {
    return this.#failures.get(partition)?.get(offset) ?? 0;
  }

  /** Its `attempt`-th attempt failed: recorded, to be committed. */
  failed(partition: number, offset: bigint, attempt: number): void {
    const f = this.#failures.get(partition) ?? new Map<bigint, number>();
    this.#failures.set(partition, f);
    if ((f.get(offset) ?? 0) >= attempt) return;
    f.set(offset, attempt);
    this.#dirty.add(partition);
  }

  /** The partition's failures have changed since they were last taken for a commit. */
  dirty(partition: number): boolean {
    return this.#dirty.has(partition);
  }

  /**
   * The metadata to commit with `offset` for the partition (what is below it is done: forgotten).
   * Taken: the partition is clean until a failure more, or `unsent()` when the commit failed.
   */
  take(partition: number, offset: bigint): string | null {
    this.#dirty.delete(partition);
    const f = this.#failures.get(partition);
    if (f === undefined) return null;
    for (const o of f.keys()) if (o < offset) f.delete(o);
    return formatAttempts(f, offset);
  }

  /** The commit carrying take()'s metadata failed: to be sent again. */
  unsent(partition: number): void {
    if (this.#failures.has(partition)) this.#dirty.add(partition);
  }
}
