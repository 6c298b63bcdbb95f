/** ConcurrencyGate's options and their defaults (the gate's module comment has the semantics). */
import { optionKeys } from '../core/index.js';
import type { GateOptions } from '../core/index.js';
import type { DisciplineOption } from '../discipline/index.js';
import type { LimitAlgorithm } from '../limit/algorithm.js';
import type { PartitionOption } from './partition.js';

export interface ConcurrencyCommonOptions extends GateOptions {
  /** Callers that may wait for a slot; 0 rejects at once when full. Integer >= 0. @default 0 */
  readonly maxQueue?: number;
  /** Longest a caller waits, ms; the context's deadline/maxWaitMs can shorten it. > 0. @default Infinity */
  readonly maxWaitMs?: number;
  /** Order in which waiters are served. @default 'fifo' */
  readonly discipline?: DisciplineOption;
  /** Named partitions with guaranteed shares; callers pick one with `ctx.partition`. */
  readonly partitions?: Readonly<Record<string, PartitionOption>>;
  /** Partition for callers that name none. Must be a key of `partitions`. @default the first partition */
  readonly defaultPartition?: string;
  /**
   * Refuse a caller that would queue at once when its expected wait exceeds 80% of its wait
   * budget (see the module comment), with that estimate as `retryAfterMs`. Needs
   * maxQueue >= 1. @default false
   */
  readonly refuseEarly?: boolean;
}

export type ConcurrencyOptions = ConcurrencyCommonOptions &
  (
    | {
        /** Maximum units in flight. Integer >= 1; change later with `setLimit`. */
        readonly limit: number;
        readonly algorithm?: undefined;
      }
    | {
        /** Sets the limit from release samples; its `limit` is the initial limit. One algorithm per gate. */
        readonly algorithm: LimitAlgorithm;
        readonly limit?: undefined;
      }
  );

export const CONCURRENCY_DEFAULTS = { maxQueue: 0, maxWaitMs: Infinity, discipline: 'fifo', refuseEarly: false } as const;

/** Every option name, for the unknown-key check (the type checker keeps it complete). */
export const CONCURRENCY_KEYS = optionKeys<ConcurrencyOptions>({
  name: true,
  clock: true,
  limit: true,
  algorithm: true,
  maxQueue: true,
  maxWaitMs: true,
  discipline: true,
  partitions: true,
  defaultPartition: true,
  refuseEarly: true,
});
