/**
 * Runs `--pairs`: both twins started and warmed once, then at each load or connection count N
 * pairs in the orders of pairOrders (bench/gateway/pairs.ts). Both stay up for the whole run so
 * that a pair is two measurements back to back, not a restart between them; the one not measured
 * is idle (no load reaches it).
 */
import type { BenchContender, Running } from './contenders.js';
import type { PairResult, PairSet, Side, Twin } from './pairs.js';
import { pairLine, pairOrders, pairResult, summarize, summaryLine } from './pairs.js';

export interface PairRun<R> {
  readonly section: PairSet['section'];
  readonly twin: Twin<BenchContender>;
  readonly pairs: number;
  /** Loads (open loop) or connection counts (closed loop). */
  readonly keys: readonly number[];
  readonly label: (key: number) => string;
  /** gateway.ts's withContender: started, pinned, stopped by PID. */
  readonly withContender: (c: BenchContender, f: (r: Running) => Promise<void>) => Promise<void>;
  readonly warm: (c: BenchContender, r: Running) => Promise<unknown>;
  readonly measure: (c: BenchContender, r: Running, key: number) => Promise<R>;
  readonly goodput: (row: R) => number;
  /** Whether a row is evidence (open loop: its generator kept its schedule); a pair with a row that is not is marked. @default every row is */
  readonly valid?: (row: R) => boolean;
  /** Every row as measured (kept in the section's table, printed). */
  readonly row: (row: R) => void;
  readonly settle: () => Promise<unknown>;
  readonly stopped: () => boolean;
}

export async function runPairs<R>(p: PairRun<R>): Promise<PairSet[]> {
  const sets: PairSet[] = [];
  const { twin } = p;
  await p.withContender(twin.baseline, (baseline) =>
    p.withContender(twin.candidate, async (candidate) => {
      const running: Record<Side, Running> = { baseline, candidate };
      for (const side of [twin.first, twin.first === 'baseline' ? 'candidate' : 'baseline'] as const) await p.warm(twin[side], running[side]);
      for (const key of p.keys) {
        const results: PairResult[] = [];
        const at = p.label(key);
        for (const [i, order] of pairOrders(twin.first, p.pairs).entries()) {
          const goodput: Partial<Record<Side, number>> = {};
          let valid = true;
          for (const side of order) {
            if (p.stopped()) return;
            await p.settle();
            const row = await p.measure(twin[side], running[side], key);
            p.row(row);
            goodput[side] = p.goodput(row);
            valid &&= p.valid?.(row) ?? true;
          }
          const r = pairResult(i + 1, order[0], goodput.baseline!, goodput.candidate!, valid);
          results.push(r);
          console.log(pairLine({ candidate: twin.candidate.name, at }, r));
        }
        const set: PairSet = { section: p.section, candidate: twin.candidate.name, baseline: twin.baseline.name, at, results, summary: summarize(results) };
        sets.push(set);
        console.log(summaryLine(set));
      }
    }),
  );
  return sets;
}
