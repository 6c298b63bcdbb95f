/** Goals: "sluice >= k x peer", judged on the paired-by-round ratio of two rows. */
import type { Row } from './harness.js';
import { pairedRatio } from './stats.js';
import { fmtRatio } from './table.js';

export interface Goal {
  /** The sluice row. */
  readonly sluice: string;
  /** The peer row. */
  readonly peer: string;
  /** Required sluice ÷ peer. */
  readonly min: number;
}

export interface GoalResult extends Goal {
  readonly label: string;
  /** Wall-clock ratio: what the goal is judged on. */
  readonly ratio: number;
  /** The same ratio in CPU time, as a check on a busy machine. */
  readonly cpuRatio: number;
  readonly met: boolean;
}

export function judge(goals: readonly Goal[], rows: readonly Row[]): GoalResult[] {
  return goals.map((g) => {
    const a = rows.find((r) => r.name === g.sluice);
    const b = rows.find((r) => r.name === g.peer);
    if (a === undefined || b === undefined) throw new Error(`goal ${g.sluice} vs ${g.peer}: no such row`);
    const ratio = pairedRatio(a.ops.samples, b.ops.samples).median;
    const cpuRatio = pairedRatio(a.cpuOps.samples, b.cpuOps.samples).median;
    return { ...g, label: `${g.sluice} >= ${fmtRatio(g.min)} ${g.peer}`, ratio, cpuRatio, met: ratio >= g.min };
  });
}

export function renderGoals(results: readonly GoalResult[]): string {
  return results
    .map((g) => `- goal ${g.label}: **${g.met ? 'met' : 'missed'}** (${fmtRatio(g.ratio)}; in CPU time ${fmtRatio(g.cpuRatio)})`)
    .join('\n');
}
