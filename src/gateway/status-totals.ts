/**
 * The running totals of a worker's `/status` (its counts since its start: requests, admissions,
 * refusals by reason, bad requests …), apart from its levels (connections open, in flight,
 * queued, tokens, memory held). The primary carries a dead worker's totals into its place's
 * sums, as PrometheusMerge carries its counters: its levels went with its process, its counts
 * did not un-happen. Until metricsfold `/status` `counters.requests` fell by a dead worker's
 * count at its death, and a rate read off two `/status` went negative.
 *
 * A total is named by its path, lists lined up by their entries' key or name as status-merge.ts
 * does (`policies/api/gates/api-concurrency/rejected/queue_full`): a total whose entry a reload
 * removed has nowhere to go, and is not shown (the merge never shows a removed route).
 */
import type { GatewayStatus } from './status.js';

/** Totals by path. */
export type StatusTotals = Map<string, number>;

/** Objects whose every number is a total, by their field name. */
const ALL_TOTALS = new Set(['counters', 'badRequests', 'rejected', 'shadowRefusals']);
/** Totals among other fields, by the field name of the object holding them. */
const SOME_TOTALS: Readonly<Record<string, ReadonlySet<string>>> = {
  paused: new Set(['total', 'repaused', 'woken', 'ranOut', 'unpaced']),
  gates: new Set(['admitted', 'released', 'dropped']),
  admissionFailures: new Set(['count']),
  fault: new Set(['delayed', 'aborted']),
  rollout: new Set(['bypassed']),
};

/** What names an entry of a list: its `key` (a policy's), else its `name` (as status-merge.ts lines them up). */
function idOf(v: unknown): string {
  if (v === null || typeof v !== 'object') return '';
  const o = v as { key?: unknown; name?: unknown };
  return typeof o.key === 'string' ? o.key : typeof o.name === 'string' ? o.name : '';
}

/**
 * A copy of `value` with each total replaced by `f(path, total)`. `holder`: the field name of
 * the object (or of the list of objects) the value is in.
 */
function mapTotals(value: unknown, path: string, holder: string, f: (path: string, n: number) => number): unknown {
  if (Array.isArray(value)) {
    const seen = new Map<string, number>();
    return value.map((v) => {
      const id = idOf(v);
      const nth = seen.get(id) ?? 0;
      seen.set(id, nth + 1);
      return mapTotals(v, `${path}/${nth}:${id}`, holder, f);
    });
  }
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const at = `${path}/${k}`;
    if (typeof v === 'number' && (ALL_TOTALS.has(holder) || SOME_TOTALS[holder]?.has(k) === true)) out[k] = f(at, v);
    else out[k] = mapTotals(v, at, ALL_TOTALS.has(holder) ? holder : k, f);
  }
  return out;
}

/** `status`'s running totals. */
export function statusTotals(status: GatewayStatus): StatusTotals {
  const out: StatusTotals = new Map();
  mapTotals(status, '', '', (path, n) => (out.set(path, n), n));
  return out;
}

/** `from` added into `into`. */
export function addTotals(into: StatusTotals, from: StatusTotals): void {
  for (const [path, n] of from) into.set(path, (into.get(path) ?? 0) + n);
}

/** `status` with `totals` added to its totals of the same path (a path it has not is left out). */
export function withTotals<S extends GatewayStatus>(status: S, totals: StatusTotals): S {
  if (totals.size === 0) return status;
  return mapTotals(status, '', '', (path, n) => n + (totals.get(path) ?? 0)) as S;
}
