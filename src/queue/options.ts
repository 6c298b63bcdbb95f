/**
 * Channel options: one readonly interface, all defaults in {@link CHANNEL_DEFAULTS}, validated
 * once at construction. Contradictory options are errors, never warnings.
 */
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { InvalidOptionError } from '../core/errors.js';
import { optClock, optInt, optName, optNumber, optOneOf } from '../core/options.js';
import { argOptions, optionKeys, optKnownKeys } from '../core/option-keys.js';
import { disciplineFactory } from '../discipline/create.js';
import type { DisciplineName, DisciplineOption } from '../discipline/create.js';
import type { Discipline } from '../discipline/entry.js';
import { deepFreeze } from '../core/deep-freeze.js';

/**
 * What a put does when the buffer is full:
 * - `'block'`: wait for a slot (up to `maxPutWaitMs` and the context's deadline), then reject `queue_timeout`.
 * - `'drop-newest'`: discard the incoming item; the put resolves `'dropped'`.
 * - `'drop-oldest'`: evict the item that arrived first, accept the incoming one.
 * - `'drop-random'`: evict a uniformly chosen queued item, accept the incoming one.
 * - `'drop-latest'`: evict the most recently buffered item, accept the incoming one (the buffer keeps
 *   its oldest items and the very latest: "latest wins" at the tail).
 * - `'reject'`: fail at once with `queue_full` and a drain-based `retryAfterMs`.
 */
export type OverflowStrategy = 'block' | 'drop-newest' | 'drop-oldest' | 'drop-random' | 'drop-latest' | 'reject';

export const OVERFLOW_STRATEGIES: readonly OverflowStrategy[] = deepFreeze(['block', 'drop-newest', 'drop-oldest', 'drop-random', 'drop-latest', 'reject']);

/** Which policy dropped an item: an overflow strategy, or CoDel's eviction at take time. */
export type DropPolicy = 'drop-newest' | 'drop-oldest' | 'drop-random' | 'drop-latest' | 'codel';

export const DROP_POLICIES: readonly DropPolicy[] = deepFreeze(['drop-newest', 'drop-oldest', 'drop-random', 'drop-latest', 'codel']);

export interface ChannelOptions<T> {
  /** Most items buffered at once. Integer in [1, 2^53 - 1]. Required: a channel is always bounded. */
  readonly capacity: number;
  /** What a put does when the buffer is full. @default 'block' */
  readonly overflow?: OverflowStrategy;
  /**
   * Longest a blocked put waits, ms, >= 0 (`Infinity`: no limit). The put context's `deadline`
   * and `maxWaitMs` can only shorten it. Only valid with overflow `'block'`. @default Infinity
   */
  readonly maxPutWaitMs?: number;
  /**
   * Order in which buffered items are taken: 'fifo', 'lifo', 'codel', 'priority' or an object with
   * parameters. Priority comes from the put context's `priority`; an item ages from when it enters
   * the buffer. Blocked puts wait FIFO, except under 'priority', where they wait by the same
   * priority-with-aging rule. CoDel's evictions at take time are drops with policy 'codel'. @default 'fifo'
   */
  readonly discipline?: DisciplineOption;
  /** Random source in [0, 1) choosing drop-random's victim. Only valid with overflow `'drop-random'`. @default Math.random */
  readonly random?: () => number;
  /**
   * Called once for every dropped item, with the policy that dropped it, after the channel's
   * state is consistent (it may call the channel). An error it throws becomes a process warning.
   */
  readonly onDrop?: (item: T, policy: DropPolicy) => void;
  /** Name in stats, events and errors. @default 'channel' */
  readonly name?: string;
  /** @default systemClock */
  readonly clock?: Clock;
}

export const CHANNEL_DEFAULTS = deepFreeze({
  overflow: 'block',
  maxPutWaitMs: Infinity,
  discipline: 'fifo',
  random: Math.random,
  name: 'channel',
  clock: systemClock,
} as const satisfies Omit<Required<ChannelOptions<unknown>>, 'capacity' | 'onDrop'>);

/** Options after validation and defaulting; internal. */
export interface ResolvedChannelOptions<T> {
  readonly capacity: number;
  readonly overflow: OverflowStrategy;
  readonly maxPutWaitMs: number;
  readonly disciplineName: DisciplineName;
  /** Discipline for buffered items; undefined selects the FIFO ring buffer. */
  readonly newDiscipline: (() => Discipline<T>) | undefined;
  /** Blocked putters wait by priority (with the items' aging) under 'priority', else FIFO. */
  readonly newPutterDiscipline: (<W>() => Discipline<W>) | undefined;
  readonly random: () => number;
  readonly onDrop: ((item: T, policy: DropPolicy) => void) | undefined;
  readonly name: string;
  readonly clock: Clock;
}

const CHANNEL_KEYS = optionKeys<ChannelOptions<unknown>>({ name: true, clock: true, capacity: true, overflow: true, maxPutWaitMs: true, discipline: true, random: true, onDrop: true });

export function resolveChannelOptions<T>(options: ChannelOptions<T>): ResolvedChannelOptions<T> {
  argOptions('Channel', options, false);
  optKnownKeys('Channel', options, CHANNEL_KEYS);
  const capacity = optInt('capacity', options.capacity, 1, Number.MAX_SAFE_INTEGER);
  const overflow = optOneOf('overflow', options.overflow ?? CHANNEL_DEFAULTS.overflow, OVERFLOW_STRATEGIES);
  let maxPutWaitMs: number = CHANNEL_DEFAULTS.maxPutWaitMs;
  if (options.maxPutWaitMs !== undefined) {
    if (overflow !== 'block') {
      throw new InvalidOptionError('maxPutWaitMs', `no value with overflow ${JSON.stringify(overflow)} (a put never waits)`, options.maxPutWaitMs);
    }
    maxPutWaitMs = optNumber('maxPutWaitMs', options.maxPutWaitMs, 0);
  }
  const d = options.discipline ?? CHANNEL_DEFAULTS.discipline;
  const factory = disciplineFactory<T>(d, 'discipline');
  const disciplineName: DisciplineName = typeof d === 'string' ? d : d.type;
  let random: () => number = CHANNEL_DEFAULTS.random;
  if (options.random !== undefined) {
    if (overflow !== 'drop-random') {
      throw new InvalidOptionError('random', `no value with overflow ${JSON.stringify(overflow)} (only 'drop-random' draws)`, options.random);
    }
    random = fn('random', options.random, 'a function returning a number in [0, 1)');
  }
  const onDrop = options.onDrop === undefined ? undefined : fn('onDrop', options.onDrop, 'a function (item, policy) => void');
  const name = optName(options.name, CHANNEL_DEFAULTS.name);
  const clock = optClock(options.clock, CHANNEL_DEFAULTS.clock);
  return {
    capacity,
    overflow,
    maxPutWaitMs,
    disciplineName,
    newDiscipline: disciplineName === 'fifo' ? undefined : factory,
    newPutterDiscipline: disciplineName === 'priority' ? <W>() => disciplineFactory<W>(d, 'discipline')() : undefined,
    random,
    onDrop,
    name,
    clock,
  };
}

function fn<F>(name: string, value: F, expected: string): F {
  if (typeof value !== 'function') throw new InvalidOptionError(name, expected, value);
  return value;
}
