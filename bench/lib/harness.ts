/**
 * The measuring loop. Each sample is one whole workload (e.g. 100k tasks), timed with
 * `performance.now()` (wall clock) and `process.cpuUsage()` (CPU time of the process, all
 * threads). Contenders are checked once (untimed), warmed up, then measured for several
 * rounds; every round runs every contender once, in an order that rotates and flips from
 * round to round so that drift (JIT tiers, heap growth, a noisy neighbour) falls on all
 * contenders alike. The heap is collected before each sample when --expose-gc is on.
 *
 * Wall-clock throughput is the headline. CPU-time throughput is kept beside it because on
 * a shared machine a descheduled process loses wall time but not CPU time: when the two
 * ratios agree, the figure is not an artefact of someone else's load.
 */
import { collect } from './gc.js';
import { pairedRatio, summarize } from './stats.js';
import type { Summary } from './stats.js';

export interface Contender {
  readonly name: string;
  /** The sluice contender this row is compared with; omitted on sluice's own rows. */
  readonly vs?: string;
  /** One line on what exactly this contender does (options, API used). */
  readonly about: string;
  /** Untimed, before each sample (fresh state, pre-built inputs). */
  setup?(): void | Promise<void>;
  /** The timed workload; returns the number of operations it did. */
  run(): number | Promise<number>;
  /** Untimed, after each sample (release what the sample left behind). */
  teardown?(): void | Promise<void>;
  /** A cheaper workload to warm the JIT with; the full sample is used when absent. */
  warmup?(): void | Promise<void>;
  /** Untimed check that the contender does what the suite claims; returns a note or throws. */
  verify?(): string | undefined | Promise<string | undefined>;
}

export interface MeasureOptions {
  readonly rounds: number;
  /** Least number of warm-up runs per contender. */
  readonly warmup: number;
  /**
   * Keep warming up until this much time went by (at most 200 runs): a contender with more
   * code needs more calls before every function on its path runs optimized, and one that
   * is measured half-optimized loses for no reason of its own. @default 0
   */
  readonly warmupMs?: number;
  /**
   * Force a full GC before each sample (when --expose-gc is on). @default true. Off, each
   * sample starts from whatever heap the previous contender left: V8's adaptive state
   * (heap limits, allocation-site pretenuring) is then warm, as in a long-running process.
   */
  readonly forceGc?: boolean;
  /** Called after each sample, for progress output. */
  readonly onSample?: (name: string, round: number, opsPerSec: number) => void;
}

export interface Row {
  readonly name: string;
  readonly vs: string | undefined;
  readonly about: string;
  readonly verified: string | undefined;
  /** Operations per second (wall clock) over the rounds. */
  readonly ops: Summary;
  /** sluice ÷ this contender (wall clock), paired by round; undefined on sluice's own rows. */
  readonly ratio: Summary | undefined;
  /** Operations per CPU-second of the process over the rounds. */
  readonly cpuOps: Summary;
  /** sluice ÷ this contender in CPU time, paired by round. */
  readonly cpuRatio: Summary | undefined;
}

interface Sample {
  readonly wall: number;
  readonly cpu: number;
}

export async function measure(contenders: readonly Contender[], options: MeasureOptions): Promise<Row[]> {
  const gc = options.forceGc ?? true;
  const verified = new Map<string, string | undefined>();
  for (const c of contenders) {
    verified.set(c.name, await c.verify?.());
    const until = performance.now() + (options.warmupMs ?? 0);
    for (let i = 0; i < 200 && (i < options.warmup || performance.now() < until); i++) {
      await (c.warmup === undefined ? sample(c, gc) : c.warmup());
    }
  }
  const samples = new Map<string, Sample[]>(contenders.map((c) => [c.name, []]));
  for (let r = 0; r < options.rounds; r++) {
    for (const c of roundOrder(contenders, r)) {
      const s = await sample(c, gc);
      samples.get(c.name)!.push(s);
      options.onSample?.(c.name, r, s.wall);
    }
  }
  const wall = (name: string): number[] | undefined => samples.get(name)?.map((s) => s.wall);
  const cpu = (name: string): number[] | undefined => samples.get(name)?.map((s) => s.cpu);
  return contenders.map((c) => {
    if (c.vs !== undefined && !samples.has(c.vs)) throw new Error(`${c.name}: no contender named ${c.vs} to compare with`);
    return {
      name: c.name,
      vs: c.vs,
      about: c.about,
      verified: verified.get(c.name),
      ops: summarize(wall(c.name)!),
      ratio: c.vs === undefined ? undefined : pairedRatio(wall(c.vs)!, wall(c.name)!),
      cpuOps: summarize(cpu(c.name)!),
      cpuRatio: c.vs === undefined ? undefined : pairedRatio(cpu(c.vs)!, cpu(c.name)!),
    };
  });
}

/** Round r: the list rotated by r, reversed on odd rounds. */
export function roundOrder<T>(xs: readonly T[], r: number): T[] {
  const k = r % xs.length;
  const rotated = [...xs.slice(k), ...xs.slice(0, k)];
  return r % 2 === 1 ? rotated.reverse() : rotated;
}

async function sample(c: Contender, gc: boolean): Promise<Sample> {
  await c.setup?.();
  if (gc) collect();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const ops = await c.run();
  const ms = performance.now() - t0;
  const used = process.cpuUsage(c0);
  await c.teardown?.();
  const cpuMs = (used.user + used.system) / 1000;
  return { wall: (ops / ms) * 1000, cpu: (ops / cpuMs) * 1000 };
}
