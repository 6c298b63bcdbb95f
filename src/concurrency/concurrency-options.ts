/** ConcurrencyGate's options, their defaults and their checks (the gate's module comment has the semantics). */
import { InvalidOptionError, optInt, optionKeys, optKnownKeys, optNumber } from '../core/index.js';
import type { GateOptions } from '../core/index.js';
import { disciplineFactory } from '../discipline/index.js';
import type { DisciplineOption } from '../discipline/index.js';
import type { LimitAlgorithm } from '../limit/algorithm.js';
import { Partition } from './partition.js';
import type { PartitionOption } from './partition.js';
import type { SlotReclaimer } from './slot-reclaimer.js';
import { deepFreeze } from '../core/deep-freeze.js';

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
  /**
   * Asked to give up slots before a caller that the full limit keeps out is queued, refused
   * or refused early (slot-reclaimer.ts). @default none
   */
  readonly reclaimer?: SlotReclaimer;
}

export type ConcurrencyOptions = ConcurrencyCommonOptions &
  (
    | {
        /** Maximum units in flight. Integer >= 1; change later with `setLimit`. */
        readonly limit: number;
        readonly algorithm?: undefined;
      }
    | {
        /**
         * Sets the limit from release samples; its `limit` is the initial limit. One algorithm per gate. Each release feeds it a
         * sample and the gate enforces `Math.round` of the limit it returns: 'success' and 'failure' are samples (a fast error is
         * not an overload signal; release a timeout as 'dropped'), 'dropped' is a drop sample, 'ignored' is no sample. RTT runs
         * from grant to release, so waiting in the gate's own queue never feeds back into the limit — or is the owner's measure of
         * the dependency's own time, given at release (`release(outcome, rttMs)`, <= 0: none).
         */
        readonly algorithm: LimitAlgorithm;
        readonly limit?: undefined;
      }
  );

/** Why a gate with the default `maxQueue: 0` refuses a caller when its slots are full. */
export const NO_QUEUE = 'every slot is in use and nothing may wait (maxQueue is 0; set maxQueue to let callers queue)';

export const CONCURRENCY_DEFAULTS = deepFreeze({ maxQueue: 0, maxWaitMs: Infinity, discipline: 'fifo', refuseEarly: false } as const);

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
  reclaimer: true,
});

/** The options checked, with their defaults in: what a ConcurrencyGate is built from. */
export interface ConcurrencySettings<W> {
  readonly algorithm: LimitAlgorithm | undefined;
  readonly limit: number;
  readonly maxQueue: number;
  readonly maxWaitMs: number;
  readonly refuseEarly: boolean;
  readonly reclaimer: SlotReclaimer | undefined;
  readonly partitions: Partition<W>[];
  readonly defaultPartition: Partition<W>;
}

export function concurrencySettings<W>(options: ConcurrencyOptions): ConcurrencySettings<W> {
  optKnownKeys('ConcurrencyGate', options, CONCURRENCY_KEYS);
  const algorithm: LimitAlgorithm | undefined = options.algorithm;
  // A name ('aimd') or a plain object read as an algorithm said "algorithm.limit: … received NaN".
  if (algorithm !== undefined && (typeof algorithm !== 'object' || algorithm === null || typeof algorithm.onSample !== 'function')) {
    throw new InvalidOptionError('algorithm', 'a limit algorithm (an object with limit and onSample(): new AimdLimit(), VegasLimit, Gradient2Limit, WindowedLimit from sluice/limit)', algorithm);
  }
  if (algorithm !== undefined && options.limit !== undefined) {
    throw new InvalidOptionError('limit', 'no limit when an algorithm sets it (use its initialLimit)', options.limit);
  }
  const limit = algorithm === undefined ? optInt('limit', options.limit, 1) : optInt('algorithm.limit', Math.round(algorithm.limit), 1);
  const maxQueue = optInt('maxQueue', options.maxQueue ?? CONCURRENCY_DEFAULTS.maxQueue, 0);
  const maxWaitMs = optNumber('maxWaitMs', options.maxWaitMs ?? CONCURRENCY_DEFAULTS.maxWaitMs, Number.MIN_VALUE);
  if (options.maxWaitMs !== undefined && maxQueue === 0) {
    throw new InvalidOptionError('maxWaitMs', 'maxQueue >= 1 (a wait needs a queue)', options.maxWaitMs);
  }
  const early = options.refuseEarly ?? CONCURRENCY_DEFAULTS.refuseEarly;
  if (typeof early !== 'boolean') throw new InvalidOptionError('refuseEarly', 'a boolean', early);
  if (early && maxQueue === 0) throw new InvalidOptionError('refuseEarly', 'false when maxQueue is 0 (nothing waits, so nothing is refused early)', early);
  const reclaimer = options.reclaimer;
  if (reclaimer !== undefined && (typeof reclaimer?.reclaim !== 'function' || typeof reclaimer.reclaimable !== 'function')) {
    throw new InvalidOptionError('reclaimer', 'an object with reclaim(ask) and reclaimable(ask)', reclaimer);
  }
  const make = disciplineFactory<W>(options.discipline ?? CONCURRENCY_DEFAULTS.discipline, 'discipline');
  const specs = options.partitions === undefined ? [['default', { share: 1 }] as const] : Object.entries(options.partitions);
  if (specs.length === 0) throw new InvalidOptionError('partitions', 'at least one partition', options.partitions);
  let total = 0;
  const partitions = specs.map(([name, spec]) => {
    const share = optNumber(`partitions.${name}.share`, spec.share, Number.MIN_VALUE, 1);
    total += share;
    const p = new Partition<W>(name, share, make());
    p.resize(limit);
    return p;
  });
  if (total > 1 + 1e-9) throw new InvalidOptionError('partitions', 'shares that sum to <= 1', Number(total.toFixed(6)));
  const def = options.defaultPartition ?? partitions[0]!.name;
  const found = partitions.find((p) => p.name === def);
  if (found === undefined) throw new InvalidOptionError('defaultPartition', `one of ${partitions.map((p) => p.name).join(', ')}`, def);
  return { algorithm, limit, maxQueue, maxWaitMs, refuseEarly: early, reclaimer, partitions, defaultPartition: found };
}
