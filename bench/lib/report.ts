/** The saved record of a run: JSON for machines, Markdown for people. Same facts in both. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { renderGoals } from './goals.js';
import type { MachineInfo } from './machine.js';
import type { SuiteResult } from './suite.js';
import { renderTable } from './table.js';

export interface RunRecord {
  readonly date: string;
  readonly command: string;
  readonly machine: MachineInfo;
  readonly sluice: { readonly version: string; readonly revision: string };
  readonly peers: Readonly<Record<string, string>>;
  readonly options: { readonly quick: boolean; readonly rounds: number; readonly warmup: number; readonly warmupMs: number; readonly forceGc: boolean; readonly only: readonly string[] };
  readonly suites: readonly SuiteResult[];
  readonly seconds: number;
}

export function headerMarkdown(r: RunRecord): string {
  const m = r.machine;
  const peers = Object.entries(r.peers)
    .map(([k, v]) => `${k}@${v}`)
    .join(', ');
  return [
    `# sluice benchmarks — ${r.date}`,
    '',
    `- command: \`${r.command}\``,
    `- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}`,
    `- load average at start (1/5/15 min): ${m.loadAverage.join(' / ')}${(m.loadAverage[0] ?? 0) > m.cores / 2 ? ' — **the machine was busy: spreads are wider, paired ratios hold up better than absolute figures**' : ''}`,
    `- runtime: Node ${m.node} (V8 ${m.v8}), forced full GC before each sample: ${!r.options.forceGc ? 'no (--no-gc)' : m.exposeGc ? 'yes' : 'no (run without --expose-gc)'}`,
    `- sluice ${r.sluice.version} at ${r.sluice.revision}; peers: ${peers}`,
    `- ${r.options.rounds} rounds after warming each contender up for >= ${r.options.warmupMs} ms (>= ${r.options.warmup} runs, on a tenth of the workload); order rotated and reversed each round${r.options.quick ? '; **quick smoke run: small workloads, not for citing**' : ''}`,
  ].join('\n');
}

export function suiteMarkdown(s: SuiteResult): string {
  const out = [`## ${s.title}`, ''];
  if (s.skipped !== undefined) {
    out.push(`Skipped: ${s.skipped}`);
    return out.join('\n');
  }
  out.push(`Workload: ${s.workload}. Took ${s.seconds.toFixed(1)} s.`, '');
  for (const t of s.tables) out.push(`**${t.title}**`, '', renderTable(t), '');
  if (s.goals.length > 0) out.push(renderGoals(s.goals), '');
  for (const n of s.notes) out.push(`- ${n}`);
  out.push('', '<details><summary>Contenders</summary>', '');
  for (const r of s.rows) out.push(`- **${r.name}**: ${r.about}${r.verified === undefined ? '' : ` — checked: ${r.verified}`}`);
  out.push('', '</details>');
  return out.join('\n');
}

export function recordMarkdown(r: RunRecord): string {
  return `${[headerMarkdown(r), ...r.suites.map(suiteMarkdown), `Total ${r.seconds.toFixed(1)} s.`].join('\n\n')}\n`;
}

/** Write latest.{json,md} and a dated copy of each; returns the paths written. */
export function save(dir: string, r: RunRecord): string[] {
  mkdirSync(dir, { recursive: true });
  const stamp = r.date.replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  const json = `${JSON.stringify(r, null, 2)}\n`;
  const md = recordMarkdown(r);
  const paths = [`${dir}/latest.json`, `${dir}/latest.md`, `${dir}/${stamp}.json`, `${dir}/${stamp}.md`];
  writeFileSync(paths[0]!, json);
  writeFileSync(paths[1]!, md);
  writeFileSync(paths[2]!, json);
  writeFileSync(paths[3]!, md);
  return paths;
}
