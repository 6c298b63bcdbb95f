/**
 * Every scenario × limiter of the adaptive simulation, and the issue's goals judged on the
 * figures measured. The thresholds are the goals'; which phases each goal reads is stated
 * with it, so a reader can check the judgement against the table.
 */
import { resolveSimOptions, simulateAdaptive } from './adaptive.js';
import type { AdaptiveSimOptions, PhaseResult, ResolvedSimOptions } from './adaptive.js';
import { ADAPTIVE, LIMITERS, scenarios } from './adaptive-scenarios.js';
import type { LimiterName } from './adaptive-scenarios.js';

export interface GoalResult {
  readonly goal: string;
  readonly limiter: LimiterName;
  readonly met: boolean;
  /** The worst measured figure and where it was measured. */
  readonly figure: string;
}

export interface SuiteResult {
  readonly options: ResolvedSimOptions;
  /** p99 of the no-limit baseline at 0.5x: the unloaded p99 the p99 goal compares with. */
  readonly unloadedP99Ms: number;
  readonly results: readonly PhaseResult[];
  readonly goals: readonly GoalResult[];
}

export const GOALS = {
  convergeMs: 5000,
  band: 0.1,
  goodputAt10x: 0.95,
  p99Ratio: 2,
  oscillation: 0.1,
  /** Oscillation is judged where the limit binds: offered load >= this multiple of the phase's capacity. */
  overload: 2,
} as const;

export function runAdaptiveSuite(options: AdaptiveSimOptions = {}, onRun?: (scenario: string, limiter: LimiterName) => void): SuiteResult {
  const o = resolveSimOptions(options);
  const results: PhaseResult[] = [];
  for (const scenario of scenarios(o.phaseMs)) {
    for (const limiter of LIMITERS) {
      onRun?.(scenario.name, limiter);
      results.push(...simulateAdaptive(scenario, limiter, o));
    }
  }
  const unloaded = results.find((r) => r.limiter === 'none' && r.scenario === 'steady 0.5x')!.p99Ms;
  return { options: o, unloadedP99Ms: unloaded, results, goals: judge(results, unloaded, o.baseLatencyMs, o.phaseMs) };
}

/** Offered load relative to the phase's own throughput capacity. */
export function relativeLoad(r: PhaseResult, capacity: number, baseLatencyMs: number): number {
  return (r.load * (capacity / baseLatencyMs) * 1000) / r.capacityPerSec;
}

/** The unloaded p99 for this phase's server: the measured one, scaled by the phase's speed. */
export function unloadedFor(r: PhaseResult, unloadedP99Ms: number, baseLatencyMs: number): number {
  return (unloadedP99Ms * r.baseLatencyMs) / baseLatencyMs;
}

function judge(results: readonly PhaseResult[], unloaded: number, baseLatencyMs: number, phaseMs: number): GoalResult[] {
  const goals: GoalResult[] = [];
  const where = (r: PhaseResult): string => (r.scenario === `steady ${r.load}x` ? r.scenario : `${r.scenario} ${r.phase}`);
  for (const limiter of ADAPTIVE) {
    const mine = results.filter((r) => r.limiter === limiter);
    const capacity = mine[0]!.knee;

    // After a step: every phase but the first of a multi-phase scenario.
    const steps = mine.filter((r) => !r.scenario.startsWith('steady') && !isFirstPhase(r, mine));
    const worstStep = maxBy(steps, (r) => r.convergeMs ?? Infinity);
    const c = worstStep.convergeMs;
    goals.push({
      goal: `within ±${GOALS.band * 100}% of the knee < ${GOALS.convergeMs / 1000} s after a step`,
      limiter,
      met: steps.every((r) => r.convergeMs !== null && r.convergeMs < GOALS.convergeMs),
      figure: `${c === null ? `not within ${phaseMs / 1000} s` : `${(c / 1000).toFixed(1)} s`} (worst: ${where(worstStep)}); ${steps.filter((r) => r.convergeMs !== null && r.convergeMs < GOALS.convergeMs).length}/${steps.length} steps met`,
    });

    const at10 = mine.find((r) => r.scenario === 'steady 10x')!;
    goals.push({
      goal: `goodput at 10x >= ${GOALS.goodputAt10x * 100}% of capacity`,
      limiter,
      met: at10.goodput >= GOALS.goodputAt10x,
      figure: `${(at10.goodput * 100).toFixed(1)}%`,
    });

    const worstP99 = maxBy(mine, (r) => r.p99Ms / unloadedFor(r, unloaded, baseLatencyMs));
    const ratio = worstP99.p99Ms / unloadedFor(worstP99, unloaded, baseLatencyMs);
    goals.push({
      goal: `admitted p99 <= ${GOALS.p99Ratio}x unloaded p99`,
      limiter,
      met: ratio <= GOALS.p99Ratio,
      figure: `${ratio.toFixed(2)}x (worst: ${where(worstP99)})`,
    });

    const bound = mine.filter((r) => relativeLoad(r, capacity, baseLatencyMs) >= GOALS.overload);
    const worstOsc = maxBy(bound, (r) => r.oscillation);
    goals.push({
      goal: `oscillation <= ${GOALS.oscillation * 100}% of the limit (steady, load >= ${GOALS.overload}x)`,
      limiter,
      met: worstOsc.oscillation <= GOALS.oscillation,
      figure: `${(worstOsc.oscillation * 100).toFixed(1)}% (worst: ${where(worstOsc)})`,
    });
  }
  return goals;
}

function isFirstPhase(r: PhaseResult, all: readonly PhaseResult[]): boolean {
  return all.find((x) => x.scenario === r.scenario) === r;
}

function maxBy<T extends object>(items: readonly T[], f: (t: T) => number): T {
  let best = items[0]!;
  for (const t of items) if (f(t) > f(best)) best = t;
  return best;
}
