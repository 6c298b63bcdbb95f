/** What a suite is given and what it hands back to the runner. */
import type { GoalResult } from './goals.js';
import type { Row } from './harness.js';
import type { Table } from './table.js';

export type SuiteId = 'concurrency' | 'rate' | 'channel' | 'breaker' | 'retry' | 'streams';

export interface SuiteContext {
  /** Short smoke run: smaller workloads, fewer rounds. */
  readonly quick: boolean;
  readonly rounds: number;
  readonly warmup: number;
  /** Least warm-up time per contender, ms. */
  readonly warmupMs: number;
  /** Force a full GC before each sample (off with --no-gc). */
  readonly forceGc: boolean;
  readonly log: (line: string) => void;
}

export interface SuiteResult {
  readonly id: SuiteId;
  readonly title: string;
  /** What one sample does, in one sentence with the sizes used. */
  readonly workload: string;
  /** Unit of the ops/s column ("tasks", "decisions", "items"). */
  readonly unit: string;
  readonly rows: readonly Row[];
  readonly goals: readonly GoalResult[];
  /** Further tables (memory per key, scaling probes). */
  readonly tables: readonly Table[];
  readonly notes: readonly string[];
  readonly seconds: number;
  /** Set when the suite could not run (the sluice module it needs has not landed). */
  readonly skipped?: string;
}

export interface Suite {
  readonly id: SuiteId;
  readonly title: string;
  run(ctx: SuiteContext): Promise<SuiteResult>;
}
