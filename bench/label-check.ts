// Micro-bench: LabelTree.series() (src/prometheus/label-tree.ts), the lookup behind every
// CounterBatch.add and RegistryHistogram.observe, against another version of the file given as
// the baseline, e.g. the one before a change:
//   git show <commit>:src/prometheus/label-tree.ts > /tmp/label-tree-base.ts
//   npx tsx bench/label-check.ts /tmp/label-tree-base.ts [calls per round, default 2e6]
// A fresh label object per call, as the callers build them ({ gate, kind, outcome } literals);
// also checkLabels alone. Rounds rotate their order; prints ns per call (median of 7) and ratios.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import * as current from '../src/prometheus/label-tree.js';

type Module = typeof current;
const base = (await import(pathToFileURL(resolve(process.argv[2] ?? '')).href)) as Module;
const N = Number(process.argv[3] ?? 2e6);
const names = ['gate', 'kind', 'outcome'];
const gates = ['api', 'burst', 'db', 'search'];
const outcomes = ['admitted', 'rejected', 'shed'];
const create = (): { n: number } => ({ n: 0 });
let sink = 0;

function lookups(m: Module): () => void {
  const tree = new m.LabelTree<{ n: number }>(names);
  return () => {
    for (let i = 0; i < N; i++) tree.series({ gate: gates[i & 3]!, kind: 'rate', outcome: outcomes[i % 3]! }, create).n += 1;
  };
}
const runs: Record<string, () => void> = {
  base: lookups(base),
  current: lookups(current),
  checkLabels: () => {
    for (let i = 0; i < N; i++) {
      const l = { gate: gates[i & 3]!, kind: 'rate', outcome: outcomes[i % 3]! };
      current.checkLabels(names, l);
      sink += l.gate.length;
    }
  },
};
const order = Object.keys(runs);
const times: Record<string, number[]> = Object.fromEntries(order.map((k) => [k, []]));
for (let round = 0; round < 7; round++) {
  const at = round % order.length;
  for (const k of [...order.slice(at), ...order.slice(0, at)]) {
    const t0 = process.hrtime.bigint();
    runs[k]!();
    times[k]!.push(Number(process.hrtime.bigint() - t0) / N);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const k of order) console.log(`${k.padEnd(12)} median ${median(times[k]!).toFixed(1)} ns/call  rounds ${times[k]!.map((t) => t.toFixed(1)).join(' ')}`);
console.log(`current / base: ${(median(times.current!) / median(times.base!)).toFixed(3)}; checkLabels alone / base: ${(median(times.checkLabels!) / median(times.base!)).toFixed(3)}`);
if (sink < 0) console.log(sink);
