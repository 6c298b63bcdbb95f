import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import type { OpenMetricsContentType, PrometheusContentType } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RegistryHistogram } from '../../src/prometheus/registry-histogram.js';

const BUCKETS = [0.005, 0.01, 0.025, 0.1, 1];
type Obs = [Record<string, string>, number];

/** prom-client's Histogram and a RegistryHistogram, each in its own registry, fed the same observations. */
function pair(labelNames: string[], observations: readonly Obs[], openMetrics = false) {
  const theirs = new Registry<OpenMetricsContentType | PrometheusContentType>();
  const ours = new Registry<OpenMetricsContentType | PrometheusContentType>();
  if (openMetrics) for (const r of [theirs, ours]) r.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  const reference = new Histogram({ name: 'h_seconds', help: 'a histogram', labelNames, buckets: BUCKETS, registers: [theirs as Registry] });
  const histogram = new RegistryHistogram({ name: 'h_seconds', help: 'a histogram', labelNames, buckets: BUCKETS, registers: [ours as Registry] });
  for (const [labels, value] of observations) {
    reference.observe(labels, value);
    histogram.observe(labels, value);
  }
  return { theirs, ours, reference, histogram };
}

// On the bounds, between them, below the first, past the last, negative, and sums that are not exact in binary.
const VALUES = [0, 0.005, 0.0050001, 0.01, 0.02, 0.025, 0.1, 0.3, 1, 1.5, 42, -0.2, 0.1 + 0.2];
const OBSERVATIONS: Obs[] = [];
for (const [i, v] of VALUES.entries()) {
  OBSERVATIONS.push([{ gate: 'api', kind: 'concurrency', outcome: i % 3 === 0 ? 'success' : 'failure' }, v]);
  // The same series with its labels written in another order, and a series with a label left out.
  OBSERVATIONS.push([{ outcome: 'success', kind: 'concurrency', gate: 'api' }, v / 3]);
  if (i % 2 === 0) OBSERVATIONS.push([{ gate: 'b"\\\n', kind: 'rate' }, v * 7]);
}

describe('RegistryHistogram (sluice/prometheus)', () => {
  it("gives a registry prom-client's Histogram's exposition for the same observations: text, OpenMetrics, JSON, default labels", async () => {
    const { theirs, ours } = pair(['gate', 'kind', 'outcome'], OBSERVATIONS);
    const text = await theirs.metrics();
    expect(text).toContain('h_seconds_bucket{le="0.005",gate="api",kind="concurrency",outcome="success"}');
    expect(await ours.metrics()).toBe(text);
    expect(JSON.stringify(await ours.getMetricsAsJSON())).toBe(JSON.stringify(await theirs.getMetricsAsJSON()));
    for (const r of [theirs, ours]) r.setDefaultLabels({ host: 'h1' });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    const open = pair(['gate', 'kind', 'outcome'], OBSERVATIONS, true);
    expect(await open.theirs.metrics()).toMatch(/# EOF\n$/);
    expect(await open.ours.metrics()).toBe(await open.theirs.metrics());
  });

  it("aggregates across a cluster's workers as prom-client's does", async () => {
    const a = pair(['gate', 'kind', 'outcome'], OBSERVATIONS.slice(0, 10));
    const b = pair(['gate', 'kind', 'outcome'], OBSERVATIONS.slice(10));
    const theirs = AggregatorRegistry.aggregate([await a.theirs.getMetricsAsJSON(), await b.theirs.getMetricsAsJSON()]);
    const ours = AggregatorRegistry.aggregate([await a.ours.getMetricsAsJSON(), await b.ours.getMetricsAsJSON()]);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('without labels: one series; reset (registry.resetMetrics) empties it, as prom-client', async () => {
    const { theirs, ours } = pair([], VALUES.map((v): Obs => [{}, v]));
    expect(await ours.metrics()).toBe(await theirs.metrics());
    theirs.resetMetrics();
    ours.resetMetrics();
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('a label it does not take, or a value that is no finite number, throws at once with prom-client\'s message, and nothing is counted', async () => {
    const { theirs, ours, reference, histogram } = pair(['gate'], [[{ gate: 'a' }, 0.01]]);
    for (const [labels, value] of [[{ gate: 'a', other: 'x' }, 0.01], [{ gate: 'a' }, NaN], [{ gate: 'a' }, Infinity], [{ gate: 'b' }, -Infinity]] as Obs[]) {
      let message = '';
      try {
        reference.observe(labels, value);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).not.toBe('');
      expect(() => histogram.observe(labels, value)).toThrow(message);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });
});
