/** The gateway bench's tables and its saved record (JSON for machines, Markdown for people). */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { MachineInfo } from '../lib/machine.js';
import type { Table } from '../lib/table.js';
import { renderTable } from '../lib/table.js';
import type { GatewayGoal } from './goals.js';
import { rssGrowthMb } from './goals.js';
import type { Measurement } from './measure.js';

export interface GatewayRecord {
  readonly date: string;
  readonly command: string;
  readonly machine: MachineInfo;
  readonly sluice: { readonly version: string; readonly revision: string };
  readonly peers: Readonly<Record<string, string>>;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly capacity: { readonly nominal: number; readonly measured: number };
  readonly contenders: readonly { readonly name: string; readonly about: string; readonly skipped?: string }[];
  readonly rows: readonly Measurement[];
  readonly overhead: readonly Measurement[];
  readonly goals: readonly GatewayGoal[];
  readonly notes: readonly string[];
  readonly seconds: number;
}

const f0 = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const f1 = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : '—');
const pct = (n: number): string => (Number.isFinite(n) ? `${(n * 100).toFixed(n === 1 || n === 0 ? 0 : 1)}%` : '—');

export function loadTable(rows: readonly Measurement[], capacity: number): Table {
  return {
    title: 'Open-loop overload: the same upstream behind each contender',
    columns: ['contender', 'load', 'offered/s', 'goodput/s', '% of capacity', 'p50 ms', 'p99 ms', 'refused', 'refused p99 ms', 'Retry-After', 'timeouts+errors', 'SYN drops (accept queue full)', 'upstream peak queue', 'CPU %', 'RSS MB (start→peak→end)'],
    align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows: rows.map((m) => {
      const other = Object.values(m.otherStatus).reduce((a, b) => a + b, 0);
      const s = m.rssSeriesMb;
      return [
        m.contender,
        `${m.multiple}x`,
        f0(m.offered),
        f0(m.goodput),
        pct(m.goodput / capacity),
        f1(m.p50),
        f1(m.p99),
        `${f0(m.refused)}${m.refused > 0 ? ` (${Object.entries(m.refusedByStatus).map(([k, v]) => `${k}: ${v}`).join(', ')}${Number.isFinite(m.refusedAfterWait) ? `; ${m.refusedAfterWait} after a wait` : ''})` : ''}`,
        f1(m.refusedP99),
        m.refused === 0 ? '—' : pct(m.retryAfterShare),
        f0(m.timeouts + m.errors + other),
        f0(m.listenOverflows),
        f0(m.upstreamPeakQueue),
        f0(m.cpuPct),
        s.length === 0 ? '—' : `${f0(s[0]!)}→${f0(Math.max(...s))}→${f0(s[s.length - 1]!)}`,
      ];
    }),
  };
}

export function overheadTable(rows: readonly Measurement[]): Table {
  return {
    title: 'Overhead at 0.5x capacity: the gateway against a bare Node proxy',
    columns: ['contender', 'round', 'goodput/s', 'p50 ms', 'p99 ms', 'CPU %', 'CPU ms per 1k requests'],
    align: ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows: rows.map((m, i) => [m.contender, String(Math.floor(i / 2) + 1), f0(m.goodput), f1(m.p50), f1(m.p99), f0(m.cpuPct), f1(m.cpuMs / (m.sent / 1000))]),
  };
}

export function rssTable(rows: readonly Measurement[]): Table {
  return {
    title: 'Contender RSS over each run, MB, once a second',
    columns: ['contender', 'load', 'growth MB', 'series'],
    align: ['l', 'r', 'r', 'l'],
    rows: rows.filter((m) => m.rssSeriesMb.length > 0).map((m) => [m.contender, `${m.multiple}x`, f1(rssGrowthMb(m)), m.rssSeriesMb.map((x) => x.toFixed(0)).join(' ')]),
  };
}

export function goalLines(goals: readonly GatewayGoal[]): string {
  return goals.map((g) => `- goal ${g.label}: **${g.met ? 'met' : 'missed'}** (${g.figure})`).join('\n');
}

export function recordMarkdown(r: GatewayRecord): string {
  const m = r.machine;
  const out = [
    `# sluice gateway bench — ${r.date}`,
    '',
    `- command: \`${r.command}\``,
    `- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}; load average at start ${m.loadAverage.join(' / ')}`,
    `- runtime: Node ${m.node} (V8 ${m.v8}); sluice ${r.sluice.version} at ${r.sluice.revision}; peers: ${Object.entries(r.peers).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `- upstream: capacity ${f0(r.capacity.nominal)} req/s nominal, ${f0(r.capacity.measured)} req/s measured (the most the upstream served per second in any row)`,
    `- settings: ${Object.entries(r.settings).map(([k, v]) => `${k} ${String(v)}`).join(', ')}`,
    '',
  ];
  for (const t of [loadTable(r.rows, r.capacity.measured), overheadTable(r.overhead), rssTable([...r.rows, ...r.overhead])]) {
    out.push(`**${t.title}**`, '', renderTable(t), '');
  }
  out.push('**Goals**', '', goalLines(r.goals), '');
  for (const n of r.notes) out.push(`- ${n}`);
  out.push('', '<details><summary>Contenders</summary>', '');
  for (const c of r.contenders) out.push(`- **${c.name}**: ${c.about}${c.skipped === undefined ? '' : ` — ${c.skipped}`}`);
  out.push('', '</details>', '', `Total ${r.seconds.toFixed(0)} s.`, '');
  return out.join('\n');
}

export function saveRecord(dir: string, r: GatewayRecord): string[] {
  mkdirSync(dir, { recursive: true });
  const paths = [`${dir}/gateway-latest.json`, `${dir}/gateway-latest.md`];
  writeFileSync(paths[0]!, `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(paths[1]!, recordMarkdown(r));
  return paths;
}
