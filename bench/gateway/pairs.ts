/**
 * `--pairs N` with `--baseline`: a contender and its `@baseline` twin measured in N pairs at each
 * load or connection count, the order alternating from pair to pair (AB, BA, AB, ...). On this
 * host the row that runs second tends to win by 5–10% (it meets a host and an upstream the first
 * one warmed: bench/results/waves-cf912ee-busy.md), as much as the effects an A/B looks for; a
 * ratio from pairs in both orders cancels that, and how many pairs favour each side says whether
 * the median is more than the order's noise. Pure: the flags, the orders and the summary, no timing.
 */
import type { Table } from '../lib/table.js';

export const BASELINE_SUFFIX = ' @baseline';

export type Side = 'baseline' | 'candidate';

export interface Twin<T> {
  readonly baseline: T;
  readonly candidate: T;
  /** The side that goes first in the first pair: whichever of the two comes first in the list given (--only's order). */
  readonly first: Side;
}

/** Each `X @baseline` with its `X`, both in `cs`, in the order the first of each two appears in `cs`; the rest in `rest`. */
export function twins<T extends { readonly name: string }>(cs: readonly T[]): { twins: Twin<T>[]; rest: T[] } {
  const found: Twin<T>[] = [];
  const paired = new Set<T>();
  for (const c of cs) {
    if (paired.has(c)) continue;
    const otherName = c.name.endsWith(BASELINE_SUFFIX) ? c.name.slice(0, -BASELINE_SUFFIX.length) : `${c.name}${BASELINE_SUFFIX}`;
    const other = cs.find((x) => x.name === otherName);
    if (other === undefined) continue;
    const cIsBaseline = c.name.endsWith(BASELINE_SUFFIX);
    found.push({ baseline: cIsBaseline ? c : other, candidate: cIsBaseline ? other : c, first: cIsBaseline ? 'baseline' : 'candidate' });
    paired.add(c).add(other);
  }
  return { twins: found, rest: cs.filter((c) => !paired.has(c)) };
}

/**
 * `--pair-rows A,B`: the two contenders named, whatever their names, as one twin (`A` the
 * baseline, `B` the candidate), the first of them in `cs` going first; none when either is
 * not in `cs`.
 */
export function namedTwin<T extends { readonly name: string }>(cs: readonly T[], baselineName: string, candidateName: string): { twins: Twin<T>[]; rest: T[] } {
  const baseline = cs.find((c) => c.name === baselineName);
  const candidate = cs.find((c) => c.name === candidateName);
  if (baseline === undefined || candidate === undefined) return { twins: [], rest: [...cs] };
  return { twins: [{ baseline, candidate, first: cs.indexOf(baseline) < cs.indexOf(candidate) ? 'baseline' : 'candidate' }], rest: cs.filter((c) => c !== baseline && c !== candidate) };
}

/** The pairing flags as given: `--pairs N`, `--pair-rows A,B`, `--baseline DIR` (undefined when absent). */
export interface PairFlags {
  readonly pairs?: string | undefined;
  readonly pairRows?: string | undefined;
  readonly baseline?: string | undefined;
}

/** What the pairing flags ask for: how many pairs (none: no pairs), and the two rows to pair (none: each `X @baseline` with its `X`). */
export interface Pairing {
  readonly pairs: number | undefined;
  readonly rows: readonly [baseline: string, candidate: string] | undefined;
}

/**
 * `--pairs` and `--pair-rows` read and checked against each other, `--baseline` and the names of
 * the contenders there are (`known`); each error names its flag, what was expected and what was received.
 */
export function readPairing(f: PairFlags, known: readonly string[]): Pairing {
  const pairs = f.pairs === undefined ? undefined : Number(f.pairs);
  if (pairs !== undefined && !(Number.isInteger(pairs) && pairs >= 1)) throw new Error(`--pairs: expected a number of pairs >= 1, received ${JSON.stringify(f.pairs)}`);
  const rows = f.pairRows?.split(',').map((n) => n.trim());
  if (rows !== undefined && (rows.length !== 2 || rows[0] === rows[1] || pairs === undefined)) throw new Error(`--pair-rows: expected two different contenders "BASELINE,CANDIDATE" and --pairs N, received --pair-rows ${JSON.stringify(f.pairRows)}${pairs === undefined ? ' and no --pairs' : ''}`);
  const unknown = rows?.filter((n) => !known.includes(n)) ?? [];
  if (unknown.length > 0) throw new Error(`--pair-rows: unknown contender(s) ${unknown.join(', ')}; choose from ${known.join(', ')}`);
  if (pairs !== undefined && f.baseline === undefined && rows === undefined) throw new Error('--pairs: expected --baseline DIR (pairs are a contender and its @baseline twin) or --pair-rows A,B, received neither');
  return { pairs, rows: rows === undefined ? undefined : [rows[0]!, rows[1]!] };
}

/** The rows of `cs` that run in pairs under `p` (bench/gateway/pair-run.ts), and the rest, which run one after another. */
export function pairUp<T extends { readonly name: string }>(cs: readonly T[], p: Pairing): { twins: Twin<T>[]; rest: T[] } {
  if (p.pairs === undefined) return { twins: [], rest: [...cs] };
  return p.rows === undefined ? twins(cs) : namedTwin(cs, p.rows[0], p.rows[1]);
}

const other = (s: Side): Side => (s === 'baseline' ? 'candidate' : 'baseline');

/** The order of each of `pairs` pairs at one load: `first` goes first in pairs 1, 3, 5, ..., second in 2, 4, 6, ... (ABBA...). */
export function pairOrders(first: Side, pairs: number): [Side, Side][] {
  if (!Number.isInteger(pairs) || pairs < 1) throw new Error(`pairs: expected an integer >= 1, received ${String(pairs)}`);
  return Array.from({ length: pairs }, (_, i) => (i % 2 === 0 ? [first, other(first)] : [other(first), first]));
}

export interface PairResult {
  /** 1-based. */
  readonly pair: number;
  readonly first: Side;
  /** Goodput, 2xx/s. */
  readonly baseline: number;
  readonly candidate: number;
  /** candidate ÷ baseline. */
  readonly ratio: number;
  /** Set when either row is not evidence (open loop: its generator fell behind, open-validity.ts). */
  readonly invalid?: true;
}

export function pairResult(pair: number, first: Side, baseline: number, candidate: number, valid = true): PairResult {
  return { pair, first, baseline, candidate, ratio: candidate / baseline, ...(valid ? {} : { invalid: true as const }) };
}

export interface PairSummary {
  readonly median: number;
  /** Pairs with a ratio above 1 (the candidate got more goodput), below 1, and exactly 1 or not a number (a baseline of 0). */
  readonly candidateAhead: number;
  readonly baselineAhead: number;
  readonly even: number;
  /** Pairs with a row that is not evidence (PairResult.invalid), and the median ratio of the others (NaN: none left). */
  readonly invalid: number;
  readonly validMedian: number;
}

function medianRatio(results: readonly PairResult[]): number {
  const ratios = results.map((r) => r.ratio).filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const mid = ratios.length >> 1;
  return ratios.length === 0 ? NaN : ratios.length % 2 === 1 ? ratios[mid]! : (ratios[mid - 1]! + ratios[mid]!) / 2;
}

export function summarize(results: readonly PairResult[]): PairSummary {
  const candidateAhead = results.filter((r) => r.ratio > 1).length;
  const baselineAhead = results.filter((r) => r.ratio < 1).length;
  const valid = results.filter((r) => r.invalid !== true);
  return { median: medianRatio(results), candidateAhead, baselineAhead, even: results.length - candidateAhead - baselineAhead, invalid: results.length - valid.length, validMedian: medianRatio(valid) };
}

/** One contender and its baseline at one load or connection count. */
export interface PairSet {
  readonly section: 'open loop' | 'closed loop';
  readonly candidate: string;
  readonly baseline: string;
  /** `8x` (open loop), `2000 conns` (closed loop). */
  readonly at: string;
  readonly results: readonly PairResult[];
  readonly summary: PairSummary;
}

const ratio = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '—');

export function pairLine(s: Pick<PairSet, 'candidate' | 'at'>, r: PairResult): string {
  return `  pair ${r.pair} ${s.candidate} ${s.at}: ${r.first} first, goodput ${Math.round(r.candidate)}/s ÷ baseline ${Math.round(r.baseline)}/s = ${ratio(r.ratio)}${r.invalid === true ? ' (a row INVALID)' : ''}`;
}

export function summaryLine(s: PairSet): string {
  const { median, candidateAhead, baselineAhead, even } = s.summary;
  return `  ${s.candidate} ÷ ${s.baseline} at ${s.at}: median ratio ${ratio(median)} over ${s.results.length} pairs; candidate ahead in ${candidateAhead}, baseline ahead in ${baselineAhead}${even > 0 ? `, even in ${even}` : ''}${s.summary.invalid > 0 ? `; ${s.summary.invalid} of them with an INVALID row, the median of the others ${ratio(s.summary.validMedian)}` : ''}`;
}

export function pairsTable(sets: readonly PairSet[]): Table {
  return {
    title: 'A/B pairs (--pairs): goodput ratio candidate ÷ baseline, the order alternating from pair to pair',
    columns: ['section', 'candidate', 'at', 'pair', 'first', 'baseline goodput/s', 'candidate goodput/s', 'ratio', 'rows valid'],
    align: ['l', 'l', 'r', 'r', 'l', 'r', 'r', 'r', 'l'],
    rows: sets.flatMap((s) => s.results.map((r) => [s.section, s.candidate, s.at, String(r.pair), r.first, String(Math.round(r.baseline)), String(Math.round(r.candidate)), ratio(r.ratio), r.invalid === true ? 'no' : 'yes'])),
  };
}

export function pairsSummaryTable(sets: readonly PairSet[]): Table {
  return {
    title: 'A/B pairs, summary: the median ratio and how many pairs favour each side',
    columns: ['section', 'candidate', 'at', 'pairs', 'median ratio', 'candidate ahead', 'baseline ahead', 'even', 'pairs with an INVALID row', 'median of the others'],
    align: ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows: sets.map((s) => [
      s.section, s.candidate, s.at, String(s.results.length), ratio(s.summary.median), String(s.summary.candidateAhead), String(s.summary.baselineAhead), String(s.summary.even),
      String(s.summary.invalid), ratio(s.summary.validMedian),
    ]),
  };
}
