/**
 * A registry's running totals alone — its counters, histograms and summaries, as its page shows
 * them, its gauges left out: what a worker answers the primary's status poll with, once a second
 * (prometheus-merge.ts `observe`: a worker killed between two scrapes takes at most that second's
 * counts with it). With 50 policies the whole page (550 kB, 6,336 samples; the gauges' collect
 * reads every gate's stats) cost a worker 11.0-11.5 ms of CPU per poll, these 7.9-8.6 ms (487 kB,
 * 5,435 samples), in the same runs (bench/metrics-poll-cost.ts; bench/results/metrics-poll-cost-*.md).
 * The rest is prom-client's rendering of every counter and histogram sample: pushing only what
 * changed would take counting apart from prom-client.
 */
import type { Registry } from 'prom-client';

/** The metric types whose samples count up for the life of the process (and their quantiles, which the primary leaves). */
const TOTALS: ReadonlySet<string> = new Set(['counter', 'histogram', 'summary']);

/**
 * The text of `registries`' running totals, each family as its page writes it (its HELP and TYPE
 * lines, then its samples). Every family asked at once, as Registry.metrics() does: one after
 * another they took 19.8 ms of CPU in a run where the page took 11.3 ms.
 */
export async function runningTotals(registries: readonly Registry[]): Promise<string> {
  const out = await Promise.all(
    registries.flatMap((registry) =>
      registry.getMetricsAsArray().flatMap((m) => {
        const type = (m as unknown as { readonly type?: string }).type;
        return type !== undefined && TOTALS.has(type) ? [registry.getSingleMetricAsString(m.name)] : [];
      }),
    ),
  );
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
