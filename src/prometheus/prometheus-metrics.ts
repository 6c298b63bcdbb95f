/**
 * sluice metrics in a prom-client `Registry`. Counters and histograms are fed by gate events
 * as they happen; gauges are read from `stats()` / `snapshot()` when the registry is scraped
 * (prom-client's `collect()`), so the core never imports a metrics library and a scrape
 * shows the state at that moment; so are the counters of totals kept elsewhere (a budget's
 * refusals, a consumer's deliveries), set to the total read. See INSTRUMENTS for the names
 * and labels.
 */
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import { InvalidOptionError } from '../core/index.js';
import { argOptions, optionKeys } from '../core/option-keys.js';
import { CounterBatch } from './counter-batch.js';
import { RegistryHistogram } from './registry-histogram.js';
import { COUNTER_KEYS, GAUGE_KEYS, HISTOGRAM_KEYS, INSTRUMENTS, metricsConfig, METRICS_KEY_MAP, READ_COUNTER_KEYS, readGauges, recordEvents, SIGNAL_LATENCY_BUCKETS, TENANT_COUNTERS } from '../metrics/index.js';
import type { CounterKey, EventRecording, GaugeReading, HistogramKey, InstrumentKey, Labels, MetricsConfig, MetricsOptions, ReadingKey } from '../metrics/index.js';

export interface PrometheusMetricsOptions extends MetricsOptions {
  /** The registry the metrics are registered with (`new Registry()`, or prom-client's global `register`). */
  readonly registry: Registry;
}

const PROMETHEUS_KEYS = optionKeys<PrometheusMetricsOptions>({ ...METRICS_KEY_MAP, registry: true });

export class PrometheusMetrics {
  readonly registry: Registry;
  readonly #c: MetricsConfig;
  readonly #counters = new Map<CounterKey, Counter>();
  /** Without a tenant label: each counter's counts since the last read. */
  readonly #batches = new Map<CounterKey, CounterBatch>();
  readonly #histograms = new Map<HistogramKey, RegistryHistogram>();
  readonly #events: EventRecording;
  /** One read of every gate per scrape, shared by the gauges: a registry calls every collect() synchronously, so the read is dropped at the next microtask. */
  #readings: GaugeReading[] | undefined;
  #closed = false;

  constructor(options: PrometheusMetricsOptions) {
    argOptions('PrometheusMetrics', options, false);
    const registry = options.registry;
    if (typeof registry?.registerMetric !== 'function') throw new InvalidOptionError('registry', 'a prom-client Registry', registry);
    this.#c = metricsConfig(options, 'PrometheusMetrics', PROMETHEUS_KEYS);
    this.registry = registry;
    const registers = [registry];
    const labelNames = (key: InstrumentKey): string[] => {
      const labels = [...INSTRUMENTS[key].labels];
      if (this.#c.tenant !== undefined && (TENANT_COUNTERS as readonly string[]).includes(key)) labels.push('tenant');
      return labels;
    };
    for (const key of COUNTER_KEYS) {
      const spec = INSTRUMENTS[key];
      const names = labelNames(key);
      // Counts added up per series and handed over at each read (counter-batch.ts), but for a
      // tenant label: its series go when their tenant is demoted (below), counts and all.
      let batch: CounterBatch | undefined;
      const collect = (): void => {
        // An open breaker turns half-open when it is read: the gates are read first, so this
        // scrape counts that transition beside the state gauge that shows it.
        if (key === 'breakerTransitions') this.#read();
        batch?.flush();
      };
      const counter = new Counter({ name: spec.prometheus, help: spec.help, labelNames: names, registers, collect });
      this.#counters.set(key, counter);
      if (this.#c.tenant === undefined) this.#batches.set(key, (batch = new CounterBatch(counter, names)));
    }
    for (const key of HISTOGRAM_KEYS) {
      const spec = INSTRUMENTS[key];
      const buckets = [...(key === 'latency' ? this.#c.latencyBuckets : key === 'signalLatency' ? SIGNAL_LATENCY_BUCKETS : this.#c.queueWaitBuckets)];
      this.#histograms.set(key, new RegistryHistogram({ name: spec.prometheus, help: spec.help, labelNames: labelNames(key), buckets, registers }));
    }
    for (const key of GAUGE_KEYS) this.#readAtScrape('gauge', key, INSTRUMENTS[key].prometheus, INSTRUMENTS[key].help, labelNames(key), registers);
    for (const key of READ_COUNTER_KEYS) {
      const spec = INSTRUMENTS[key];
      this.#readAtScrape('counter', key, spec.prometheus, spec.help, labelNames(key), registers);
      if (spec.deprecatedGauge !== undefined) {
        this.#readAtScrape('gauge', key, spec.deprecatedGauge, `Deprecated: use ${spec.prometheus}, a counter (rate(), increase()); this gauge goes in the next major version. ${spec.help}`, labelNames(key), registers);
      }
    }
    // A tenant replaced by a heavier one: its series go, so the exposition holds at most maxValues tenants.
    const tenantSeries = new Map<string, Map<string, [CounterKey, Labels]>>();
    const tenant = this.#c.tenant;
    if (tenant !== undefined) {
      tenant.onDemote = (value) => {
        for (const [metric, labels] of tenantSeries.get(value)?.values() ?? []) this.#counters.get(metric)!.remove(labels);
        tenantSeries.delete(value);
      };
    }
    this.#events = recordEvents(this.#c, {
      inc: (metric, labels, n) => {
        const value = labels['tenant'];
        if (value !== undefined && value !== '' && value !== tenant?.overflow) {
          let series = tenantSeries.get(value);
          if (series === undefined) tenantSeries.set(value, (series = new Map<string, [CounterKey, Labels]>()));
          const id = `${metric}\0${Object.values(labels).join('\0')}`;
          if (!series.has(id)) series.set(id, [metric, labels]);
        }
        const batch = this.#batches.get(metric);
        if (batch !== undefined) batch.add(labels, n);
        else this.#counters.get(metric)!.inc(labels, n);
      },
      observe: (metric, labels, seconds) => this.#histograms.get(metric)!.observe(labels, seconds),
    });
  }

  /**
   * With `events: 'gates'` and `gates` a function: listen to the gates it returns now, from
   * their first event (each scrape does this too, for gates that appeared since). Call it once
   * a new gate exists, before it admits anything. Otherwise nothing to do.
   */
  refresh(): void {
    this.#events.refresh();
  }

  /** Stop recording and remove every sluice metric from the registry. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#events.stop();
    for (const key of [...COUNTER_KEYS, ...HISTOGRAM_KEYS, ...GAUGE_KEYS, ...READ_COUNTER_KEYS]) {
      this.registry.removeSingleMetric(INSTRUMENTS[key].prometheus);
      const old = INSTRUMENTS[key].deprecatedGauge;
      if (old !== undefined) this.registry.removeSingleMetric(old);
    }
  }

  /** A gauge, or a counter of a total kept elsewhere, set to what is read at each scrape. */
  #readAtScrape(kind: 'gauge' | 'counter', key: ReadingKey, name: string, help: string, labelNames: string[], registers: Registry[]): void {
    const readings = (): GaugeReading[] => this.#read();
    // Series of gates and consumers that are gone must go too: start from nothing at every
    // scrape. A counter's total read lower than before (its consumer replaced) is a reset.
    const config = { name, help, labelNames, registers };
    if (kind === 'gauge') {
      new Gauge({
        ...config,
        collect() {
          this.reset();
          for (const r of readings()) if (r.metric === key) this.set(r.labels, r.value);
        },
      });
    } else {
      new Counter({
        ...config,
        collect() {
          this.reset();
          for (const r of readings()) if (r.metric === key) this.inc(r.labels, r.value);
        },
      });
    }
  }

  #read(): GaugeReading[] {
    if (this.#readings === undefined) {
      this.#events.refresh();
      this.#readings = readGauges(this.#c);
      queueMicrotask(() => (this.#readings = undefined));
    }
    return this.#readings;
  }
}

/** `registerPrometheusMetrics({ registry, gates })`: see {@link PrometheusMetrics}. */
export function registerPrometheusMetrics(options: PrometheusMetricsOptions): PrometheusMetrics {
  return new PrometheusMetrics(options);
}
