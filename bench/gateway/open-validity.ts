/**
 * What an open-loop row may be judged on. Two ways the bench can report a collapse that is
 * not the contender's, or hide one that is:
 *
 * - The generator fell behind its schedule (runOpenLoop's `maxLagMs`): the load was not
 *   offered as planned — it came late and in bursts — so the row says more about the machine
 *   than about the contender. Past MAX_VALID_LAG_MS (the demo's rule, src/demo/phase-result.ts)
 *   the row is marked invalid and its goals are not judged; its figures stay in the table.
 *   The generator's own CPU beside the lag tells a starved generator (a busy machine: low
 *   CPU, high lag) from one working flat out (the row's answers or connection churn cost it).
 * - "% of capacity" against a capacity no row reached: the capacity is what the upstream
 *   served while it was saturated, so only rows that kept its slots busy (a mean in service of
 *   at least SATURATED_SHARE of its concurrency) measure it. A run of sluice rows alone that
 *   all collapse would otherwise call 242 req/s "89.8% of capacity". Without such a row the
 *   nominal capacity is used, and the report says so.
 */
import { MAX_VALID_LAG_MS } from '../../src/demo/phase-result.js';

export { MAX_VALID_LAG_MS };

/** A row measures the upstream's capacity when its mean in service is at least this share of the upstream's concurrency. */
export const SATURATED_SHARE = 0.9;

export interface RowValidity {
  readonly valid: boolean;
  /** Why not, for the goals and the table; undefined when valid. */
  readonly why?: string;
}

export function openRowValidity(m: { readonly maxLagMs: number; readonly generatorCpuPct?: number }): RowValidity {
  if (!(m.maxLagMs > MAX_VALID_LAG_MS)) return { valid: true };
  const cpu = m.generatorCpuPct === undefined || !Number.isFinite(m.generatorCpuPct) ? '' : `, generator CPU ${Math.round(m.generatorCpuPct)}%`;
  return { valid: false, why: `the generator ran ${Math.round(m.maxLagMs)} ms behind its schedule (over ${MAX_VALID_LAG_MS} ms${cpu}): the load was not offered as planned` };
}

export interface OpenCapacity {
  /** req/s: the most the upstream served per second in a row that saturated it, or the nominal capacity. */
  readonly capacity: number;
  /** The rows it was measured in; empty: none saturated the upstream, and `capacity` is the nominal. */
  readonly from: readonly string[];
  /** Open-loop rows there were (0: a closed-loop or rate-only run, which measures its capacity in its own rows). */
  readonly rows: number;
}

export function openCapacity(
  rows: readonly { readonly contender: string; readonly multiple: number; readonly upstreamServedPerS: number; readonly upstreamMeanInService?: number }[],
  nominal: number,
  concurrency: number,
): OpenCapacity {
  // Records from before upstreamMeanInService was measured: every row counts, as it did then.
  const saturated = rows.filter((m) => Number.isFinite(m.upstreamServedPerS) && !((m.upstreamMeanInService ?? Infinity) < SATURATED_SHARE * concurrency));
  if (saturated.length === 0) return { capacity: nominal, from: [], rows: rows.length };
  const top = Math.max(...saturated.map((m) => m.upstreamServedPerS));
  return { capacity: top, from: saturated.map((m) => `${m.contender} ${m.multiple}x`), rows: rows.length };
}

/** The capacity line of the report. */
export function capacityLine(c: OpenCapacity, nominal: number, concurrency: number): string {
  if (c.rows === 0) return `upstream capacity: ${nominal} req/s nominal (no open-loop rows)`;
  if (c.from.length === 0) return `upstream capacity: ${nominal} req/s nominal; no open-loop row kept ${Math.ceil(SATURATED_SHARE * concurrency)} of its ${concurrency} slots busy on average, so "% of capacity" is against the nominal`;
  return `upstream capacity: ${nominal} req/s nominal, ${Math.round(c.capacity)} req/s measured (the most it served per second in a row that kept ${Math.ceil(SATURATED_SHARE * concurrency)}+ of its ${concurrency} slots busy: ${c.from.join(', ')})`;
}
