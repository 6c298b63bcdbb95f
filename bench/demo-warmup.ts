// Where the demo's refusals at 0.5x capacity come from: the demo's gateway run at 0.5x for
// --phase seconds, after each warm-up of --warmups (ms, unmeasured load at that rate), in
// --rounds interleaved rounds; the refusals are counted per half second of the phase (from
// the progress the load generator reports). Refusals bunched in the first seconds are a
// cold start that a warm-up should absorb; refusals spread evenly are the host's, which no
// warm-up changes. Prints a table; --save writes it to bench/results/.
//   npx tsx bench/demo-warmup.ts [--warmups 0,500,3000] [--rounds 3] [--phase 4] [--label busy] [--save]
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { runDemo } from '../src/demo/run-demo.js';

const { values } = parseArgs({ options: { warmups: { type: 'string', default: '0,500,3000' }, rounds: { type: 'string', default: '3' }, phase: { type: 'string', default: '4' }, label: { type: 'string', default: 'busy' }, save: { type: 'boolean', default: false } } });
const warmups = values.warmups.split(',').map(Number);
const rounds = Number(values.rounds);
const phaseMs = Number(values.phase) * 1000;
const lines: string[] = [];
const say = (s: string): void => {
  lines.push(s);
  console.log(s);
};
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
say(`# demo gateway run at 0.5x: refusals per half second after each warm-up (${commit}, ${new Date().toISOString()})`);
say(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' / ')}; ${rounds} rounds, phase ${phaseMs / 1000} s, warm-ups ${warmups.join(', ')} ms interleaved`);
say('');
say('| round | warm-up ms | refused per 0.5 s (first → last) | refused in all | in the first 2 s | goodput/s | load average |');
say('|--:|--:|:--|--:|--:|--:|--:|');
const totals = new Map<number, { all: number; first: number }>();
for (let round = 1; round <= rounds; round++) {
  for (const warmupMs of warmups) {
    const cumulative: number[] = [];
    const r = await runDemo({ runs: ['gateway'], phases: [0.5], phaseMs, warmupMs }, { onProgress: (_run, _m, p) => cumulative.push(p.rejected) });
    const phase = r.phases[0]!;
    const refused = Object.values(phase.rejected).reduce((a, b) => a + b, 0);
    const per = cumulative.map((c, i) => c - (cumulative[i - 1] ?? 0));
    const first = per.slice(0, 4).reduce((a, b) => a + b, 0);
    const t = totals.get(warmupMs) ?? { all: 0, first: 0 };
    totals.set(warmupMs, { all: t.all + refused, first: t.first + first });
    say(`| ${round} | ${warmupMs} | ${per.join(' ')} | ${refused} | ${first} | ${Math.round(phase.goodput)} | ${loadavg()[0]!.toFixed(2)} |`);
  }
}
say('');
for (const [w, t] of totals) say(`warm-up ${w} ms: ${t.all} refused over ${rounds} rounds, ${t.first} of them (${t.all === 0 ? 0 : Math.round((100 * t.first) / t.all)} %) in the first 2 s`);
if (values.save) {
  const file = `bench/results/demo-warmup-${commit}-${values.label}.md`;
  writeFileSync(file, `${lines.join('\n')}\n`);
  console.log(`saved ${file}`);
}
