/** The gateway bench's tables and its saved record (JSON for machines, Markdown for people). */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { MachineInfo } from '../lib/machine.js';
import type { Table } from '../lib/table.js';
import { renderTable } from '../lib/table.js';
import type { GatewayGoal } from './goals.js';
import { rssGrowthMb } from './goals.js';
import { refusedCell } from './gateway-refusals.js';
import { openRowValidity } from './open-validity.js';
import type { Measurement } from './measure.js';
import type { ClosedRow, RateRow } from './closed-loop.js';
import type { PairSet } from './pairs.js';
import { pairsSummaryTable, pairsTable } from './pairs.js';

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
  /** Closed loop (wrk), and the rate limit's accuracy; absent in records from before them. */
  readonly closed?: readonly ClosedRow[];
  readonly rates?: readonly RateRow[];
  /** --pairs: each contender against its @baseline twin, pair by pair (bench/gateway/pairs.ts). */
  readonly pairs?: readonly PairSet[];
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
    columns: [
      'contender', 'load', 'offered/s', 'goodput/s', '% of capacity', 'p50 ms', 'p99 ms', 'refused', 'refused p99 ms', 'Retry-After', 'timeouts+errors', 'SYN drops (accept queue full)',
      'upstream peak queue', 'permits held / upstream busy', 'CPU %', 'RSS MB (start→peak→end)', 'generator lag max ms (its CPU %)',
    ],
    align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
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
        refusedCell(m),
        f1(m.refusedP99),
        m.refused === 0 ? '—' : pct(m.retryAfterShare),
        f0(m.timeouts + m.errors + other),
        f0(m.listenOverflows),
        f0(m.upstreamPeakQueue),
        m.slots === undefined ? '—' : `${f1(m.slots.meanInFlight)} / ${f1(m.upstreamMeanInService)}`,
        f0(m.cpuPct),
        s.length === 0 ? '—' : `${f0(s[0]!)}→${f0(Math.max(...s))}→${f0(s[s.length - 1]!)}`,
        `${f0(m.maxLagMs)} (${f0(m.generatorCpuPct)})${openRowValidity(m).valid ? '' : ' INVALID'}`,
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
    columns: ['contender', 'load', 'growth MB (trend)', 'series'],
    align: ['l', 'r', 'r', 'l'],
    rows: rows.filter((m) => m.rssSeriesMb.length > 0).map((m) => [m.contender, `${m.multiple}x`, f1(rssGrowthMb(m)), m.rssSeriesMb.map((x) => x.toFixed(0)).join(' ')]),
  };
}

/** When the probe started, when known: `, from 2.9 s`, with `, not all accepted` when wrk's connections never were. */
function probeFrom(r: ClosedRow): string {
  if (r.probeFromS === undefined) return '';
  return `, from ${r.probeFromS.toFixed(1)} s${r.probeAfterAccept === true ? '' : ', not all accepted'}`;
}

export function closedTable(rows: readonly ClosedRow[], capacity: number): Table {
  return {
    title: 'Closed loop (wrk: every connection re-sends as soon as it is answered, 503 included)',
    columns: ['contender', 'connections', 'goodput/s', '% of capacity', 'onset goodput/s (s)', 'refused/s', 'Retry-After', 'probe refusal p99 ms', 'p99 ms (all answers)', 'errors', 'timeouts', 'CPU %', 'CPU % per process', 'CPU µs per answer', 'upstream CPU %', 'machine CPU %', 'RSS MB peak', 'upstream peak in-flight', 'upstream mean in service'],
    align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows: rows.map((r) => [
      r.contender,
      f0(r.connections),
      f0(r.goodput),
      pct(r.goodput / capacity),
      r.onset === undefined ? '—' : `${f0(r.onset.goodput)} (${f1(r.onset.seconds)})`,
      f0(r.refusedPerS),
      Number.isNaN(r.retryAfterShare) ? '—' : pct(r.retryAfterShare),
      `${f1(r.probeRefusalP99)} (${r.probeRefusals}${probeFrom(r)})`,
      f1(r.p99),
      f0(r.errors + r.other),
      f0(r.timeouts),
      f0(r.cpuPct),
      r.cpuPctByProcess.length > 1 ? r.cpuPctByProcess.map(f0).join(' / ') : '—',
      f0(r.cpuUsPerAnswer),
      f0(r.upstreamCpuPct ?? NaN),
      f0(r.machineCpuPct ?? NaN),
      f0(r.rssPeakMb),
      f0(r.upstreamPeakInFlight),
      f1(r.upstreamMeanInService),
    ]),
  };
}

export function rateTable(rows: readonly RateRow[]): Table {
  const pct = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%` : '—');
  // Records from before the upstream counted arrivals have only wrk's figures, under the old names.
  const old = (r: RateRow): boolean => r.wrkAdmitted === undefined;
  return {
    title: 'Rate limit accuracy in closed loop: admitted (counted at the upstream) against rate × (last − first arrival) + burst',
    columns: ['contender', 'connections', 'admitted', 'span s', 'rate × span + burst', 'deviation', 'wrk 2xx', 'wrk deviation', 'refused', 'offered/s', 'ceiling/s', 'max gap ms', 'overflowed', 'of it all held', 'refused with ≥ ½ burst', 'pauses'],
    align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows: rows.map((r) =>
      old(r)
        ? [r.contender, f0(r.connections), '—', '—', '—', '—', f0(r.admitted), pct(r.deviation), f0(r.refused), '—', '—', '—', '—', '—', '—', '—']
        : [
            r.contender,
            f0(r.connections),
            f0(r.admitted),
            r.spanS.toFixed(3),
            f0(r.allowed),
            r.clientBound ? `${pct(r.deviation)} (client-bound)` : pct(r.deviation),
            f0(r.wrkAdmitted),
            pct(r.wrkDeviation),
            f0(r.refused),
            f0(r.offeredPerS),
            f0(r.ceilingPerS),
            r.maxGapMs.toFixed(1),
            f0(r.overflowed),
            f0(r.overflowedAllHeld),
            Number.isFinite(r.refusedWithTokens) ? `${f0(r.refusedWithTokens)} of ${f0(r.refusalsInSpan)}` : '—',
            Number.isFinite(r.pauses) ? f0(r.pauses) : '—',
          ],
    ),
  };
}

export function goalLines(goals: readonly GatewayGoal[]): string {
  return goals.map((g) => `- goal ${g.label}: **${g.judged === false ? 'not judged' : g.met ? 'met' : 'missed'}** (${g.figure})`).join('\n');
}

export function recordMarkdown(r: GatewayRecord): string {
  const m = r.machine;
  const out = [
    `# sluice gateway bench — ${r.date}`,
    '',
    `- command: \`${r.command}\``,
    `- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}; load average at start ${m.loadAverage.join(' / ')}`,
    `- runtime: Node ${m.node} (V8 ${m.v8}); sluice ${r.sluice.version} at ${r.sluice.revision}; peers: ${Object.entries(r.peers).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `- upstream: capacity ${f0(r.capacity.nominal)} req/s nominal, ${f0(r.capacity.measured)} req/s measured (the most the upstream served per second in a row that kept 90% of its slots busy; the nominal when none did)`,
    `- settings: ${Object.entries(r.settings).map(([k, v]) => `${k} ${String(v)}`).join(', ')}`,
    '',
  ];
  const tables = [loadTable(r.rows, r.capacity.measured), overheadTable(r.overhead), rssTable([...r.rows, ...r.overhead])];
  if (r.closed !== undefined && r.closed.length > 0) tables.push(closedTable(r.closed, r.capacity.measured));
  if (r.rates !== undefined && r.rates.length > 0) tables.push(rateTable(r.rates));
  if (r.pairs !== undefined && r.pairs.length > 0) tables.push(pairsTable(r.pairs), pairsSummaryTable(r.pairs));
  for (const t of tables.filter((x) => x.rows.length > 0)) {
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
