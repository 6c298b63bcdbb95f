/** Tables as aligned Markdown: the same text reads well in a terminal and in a .md file. */
import type { Row } from './harness.js';

export interface Table {
  readonly title: string;
  readonly columns: readonly string[];
  /** 'r' right-aligns a column (numbers). */
  readonly align: readonly ('l' | 'r')[];
  readonly rows: readonly (readonly string[])[];
}

export function renderTable(t: Table): string {
  const widths = t.columns.map((c, i) => Math.max(c.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const pad = (s: string, i: number): string => (t.align[i] === 'r' ? s.padStart(widths[i]!) : s.padEnd(widths[i]!));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => pad(c, i)).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (t.align[i] === 'r' ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`;
  return [line(t.columns), rule, ...t.rows.map(line)].join('\n');
}

export function fmtOps(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(1);
}

export function fmtPct(fraction: number): string {
  return `±${(fraction * 100).toFixed(1)}%`;
}

export function fmtRatio(x: number): string {
  return x >= 10 ? `${x.toFixed(1)}x` : `${x.toFixed(2)}x`;
}

/** The main table of a suite: throughput, spread, sluice ÷ contender paired by round; the same in CPU time. */
export function resultsTable(title: string, unit: string, rows: readonly Row[]): Table {
  return {
    title,
    columns: ['contender', `${unit}/s (median)`, 'spread (MAD)', 'compared with', 'sluice ÷ contender', `${unit}/CPU-s`, 'sluice ÷ contender (CPU)'],
    align: ['l', 'r', 'r', 'l', 'r', 'r', 'r'],
    rows: rows.map((r) => [
      r.name,
      fmtOps(r.ops.median),
      fmtPct(r.ops.spread),
      r.vs ?? '—',
      r.ratio === undefined ? '—' : `${fmtRatio(r.ratio.median)} ${fmtPct(r.ratio.spread)}`,
      fmtOps(r.cpuOps.median),
      r.cpuRatio === undefined ? '—' : fmtRatio(r.cpuRatio.median),
    ]),
  };
}
