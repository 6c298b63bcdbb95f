/** The demo's tables: one per load phase, a row per run, and a closing summary. */
import { formatTable } from './table.js';
import { MAX_VALID_LAG_MS } from '../demo/phase-result.js';
import type { PhaseResult } from '../demo/phase-result.js';

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const ms = (n: number): string => (!Number.isFinite(n) ? '—' : n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US'));
const count = (n: number | undefined): string => (n === undefined || n === 0 ? '0' : n.toLocaleString('en-US'));

export function phaseTitle(multiple: number, offered: number, seconds: number): string {
  return `${multiple}x capacity — ${int(offered)} req/s offered for ${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
}

export function phaseTable(rows: readonly PhaseResult[]): string {
  const header = ['run', 'goodput/s', 'p50 ms', 'p99 ms', '429', '503', 'Retry-After', 'timeouts', 'errors', 'upstream peak queue', 'RSS MB', 'CPU %', 'load sent on time'];
  const body = rows.map((r) => {
    const other = Object.values(r.otherStatus).reduce((a, b) => a + b, 0);
    return [
      r.run,
      int(r.goodput),
      ms(r.p50),
      ms(r.p99),
      count(r.rejected['429']),
      count(r.rejected['503']),
      Number.isNaN(r.retryAfterShare) ? '—' : `${Math.round(r.retryAfterShare * 100)}%`,
      count(r.timeouts),
      count(r.errors + other),
      r.upstream === undefined ? '—' : count(r.upstream.peakQueue),
      r.process === undefined ? '—' : r.process.rssPeakMb.toFixed(0),
      r.process === undefined ? '—' : ((r.process.cpuMs / r.process.wallMs) * 100).toFixed(0),
      r.valid ? 'yes' : `NO: ${ms(r.maxLagMs)} ms late — INVALID`,
    ];
  });
  return formatTable(header, body);
}

/** What an invalid phase means, once under the tables that have one. */
export function invalidNote(phases: readonly PhaseResult[]): string {
  const bad = phases.filter((p) => !p.valid);
  if (bad.length === 0) return '';
  const worst = Math.max(...bad.map((p) => p.maxLagMs));
  return (
    `INVALID: in ${bad.length} of ${phases.length} phases the load generator fell behind its schedule by more than ${MAX_VALID_LAG_MS} ms (up to ${ms(worst)} ms): ` +
    'this machine was too busy to offer the planned load, so those rows measure the machine, not the server. Run again on a quieter machine.'
  );
}

/** Every phase's table, in phase order, runs side by side; invalid phases are marked. */
export function demoTables(phases: readonly PhaseResult[], phaseSeconds: number): string {
  const multiples = [...new Set(phases.map((p) => p.multiple))];
  const note = invalidNote(phases);
  return (
    multiples
      .map((m) => {
        const rows = phases.filter((p) => p.multiple === m);
        return `${phaseTitle(m, rows[0]!.offered, phaseSeconds)}\n${phaseTable(rows)}`;
      })
      .join('\n') + (note === '' ? '' : `\n${note}\n`)
  );
}

/** The headline, at the highest load: what the gateway changed. */
export function demoSummary(phases: readonly PhaseResult[], capacity: number): string {
  const top = Math.max(...phases.map((p) => p.multiple));
  const direct = phases.find((p) => p.multiple === top && p.run === 'direct');
  const gateway = phases.find((p) => p.multiple === top && p.run === 'gateway');
  if (direct === undefined || gateway === undefined) return '';
  if (!direct.valid || !gateway.valid) return `At ${top}x capacity: no comparison — the load generator fell behind its schedule (see INVALID above).`;
  const share = (g: number): string => `${Math.round((g / capacity) * 100)}% of capacity`;
  const wasted = direct.upstream === undefined ? '' : `, and the upstream spent ${count(direct.upstream.servedToGone)} responses on clients that had already given up`;
  return [
    `At ${top}x capacity:`,
    `  straight at the upstream: ${int(direct.goodput)} good answers/s (${share(direct.goodput)}), p99 ${ms(direct.p99)} ms, ${count(direct.timeouts + direct.errors)} timeouts or errors${wasted};`,
    `  through the gateway:      ${int(gateway.goodput)} good answers/s (${share(gateway.goodput)}), p99 ${ms(gateway.p99)} ms, the excess refused in p99 ${ms(gateway.rejectedP99)} ms` +
      `${Number.isNaN(gateway.retryAfterShare) ? '' : ` (${Math.round(gateway.retryAfterShare * 100)}% with Retry-After)`}.`,
  ].join('\n');
}
