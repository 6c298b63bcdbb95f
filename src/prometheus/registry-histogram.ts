/**
 * A Prometheus histogram kept here and read by a prom-client Registry: registered with the
 * registry's `registerMetric`, it answers the registry's reads (`get()`, `getForPromString()`,
 * `reset()`) with the data a prom-client Histogram gives for the same observations, so the
 * exposition (text, JSON, a cluster's aggregate) is the same, byte for byte
 * (test/metrics/registry-histogram.test.ts holds it against prom-client's).
 *
 * Why: prom-client's `Histogram.observe(labels, v)` checks the labels, builds a string of them
 * and looks it up as a key of a dictionary object, then finds the bucket as a key of an object
 * keyed by the bounds (each bound made a string) — about 1 µs a call, twice per request through
 * the gateway (queue wait at admission, latency at release). Here a series is found through
 * Maps keyed by the label values themselves (label-tree.ts) and its buckets are an array.
 * Every observation is counted at once: a scrape reads the totals as they are.
 */
import { format } from 'node:util';
import type { Metric, Registry } from 'prom-client';
import type { Labels } from '../metrics/index.js';
import { checkLabels, LabelTree } from './label-tree.js';

interface Series {
  /** The labels of the series' first observation (copied): the exposition shows them in that order, as prom-client does. */
  readonly labels: Labels;
  /** Observations per bucket (not cumulative), the last one past every bound (+Inf only). */
  readonly counts: number[];
  sum: number;
  count: number;
}

/** One value of prom-client's metric data (MetricObject's `values`). */
interface Value {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
  exemplar?: null | undefined;
  sharedLabels?: Labels;
}

export interface RegistryHistogramOptions {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  /** Upper bounds, ascending (validated by the caller). */
  readonly buckets: readonly number[];
  readonly registers: readonly Registry[];
}

export class RegistryHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly upperBounds: readonly number[];
  readonly #tree: LabelTree<Series>;
  /** Every series so far, in the order first observed (the exposition's order, as prom-client's). */
  #series: Series[] = [];

  constructor(options: RegistryHistogramOptions) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = [...options.labelNames];
    this.upperBounds = [...options.buckets];
    this.#tree = new LabelTree(this.labelNames);
    for (const registry of options.registers) registry.registerMetric(this as unknown as Metric);
  }

  /** Count `value` in the series of `labels`; a label the histogram does not take, or a value that is no finite number, throws as prom-client's does. */
  observe(labels: Labels, value: number): void {
    if (!Number.isFinite(value)) {
      checkLabels(this.labelNames, labels); // prom-client's order: the labels first
      throw new TypeError(`Value is not a valid number: ${format(value)}`);
    }
    const series = this.#tree.series(labels, this.#create);
    const bounds = this.upperBounds;
    let b = 0;
    while (b < bounds.length && !(value <= bounds[b]!)) b++;
    series.counts[b]! += 1;
    series.sum += value;
    series.count += 1;
  }

  /** Every series gone (prom-client's `reset()`, which `registry.resetMetrics()` calls). */
  reset(): void {
    this.#tree.clear();
    this.#series = [];
  }

  /** The registry's text exposition reads this: each series' labels as `sharedLabels`, as prom-client's Histogram gives them. */
  getForPromString(): Promise<{ name: string; help: string; type: 'histogram'; values: Value[]; aggregator: 'sum' }> {
    const bucket = `${this.name}_bucket`;
    const values: Value[] = [];
    for (const s of this.#series) {
      let acc = 0;
      for (let i = 0; i < this.upperBounds.length; i++) {
        acc += s.counts[i]!;
        values.push({ labels: { le: this.upperBounds[i]! }, sharedLabels: s.labels, value: acc, metricName: bucket, exemplar: null });
      }
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: bucket, exemplar: null },
        { labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum`, exemplar: undefined },
        { labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count`, exemplar: undefined },
      );
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  /** The registry's JSON (and a cluster's aggregation) reads this: each value's labels with the series' after `le`, as prom-client's. */
  async get(): Promise<{ name: string; help: string; type: 'histogram'; values: Value[]; aggregator: 'sum' }> {
    const data = await this.getForPromString();
    data.values = data.values.map(({ labels, sharedLabels, ...v }) => ({ ...v, labels: { ...labels, ...sharedLabels } }));
    return data;
  }

  readonly #create = (labels: Labels): Series => {
    const series: Series = { labels: { ...labels }, counts: new Array<number>(this.upperBounds.length + 1).fill(0), sum: 0, count: 0 };
    this.#series.push(series);
    return series;
  };
}
