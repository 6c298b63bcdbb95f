/**
 * sluice metrics as OpenTelemetry instruments, the same set as the Prometheus adapter:
 * counters and histograms (seconds) fed by gate events as they happen, observable gauges
 * read from `stats()` / `snapshot()` at each collection through one batch callback, and
 * observable counters of the totals kept elsewhere (a budget's refusals, a consumer's
 * deliveries), read by the same callback. The
 * instrument names (INSTRUMENTS[...].otel) become the Prometheus adapter's names when
 * exported through OTel's Prometheus exporter.
 */
import { metrics } from '@opentelemetry/api';
import type { BatchObservableCallback, Counter, Histogram, Meter, Observable } from '@opentelemetry/api';
import { InvalidOptionError } from '../core/index.js';
import { argOptions, optionKeys } from '../core/option-keys.js';
import { COUNTER_KEYS, GAUGE_KEYS, HISTOGRAM_KEYS, INSTRUMENTS, metricsConfig, METRICS_KEY_MAP, READ_COUNTER_KEYS, readGauges, recordEvents, SIGNAL_LATENCY_BUCKETS } from '../metrics/index.js';
import type { CounterKey, EventRecording, HistogramKey, MetricsOptions, ReadingKey } from '../metrics/index.js';

export interface OtelMetricsOptions extends MetricsOptions {
  /** The meter the instruments are created on. @default metrics.getMeter('sluice') */
  readonly meter?: Meter;
}

const OTEL_KEYS = optionKeys<OtelMetricsOptions>({ ...METRICS_KEY_MAP, meter: true });

export class OtelMetrics {
  readonly meter: Meter;
  readonly #counters = new Map<CounterKey, Counter>();
  readonly #histograms = new Map<HistogramKey, Histogram>();
  /** Observable gauges and observable counters, read at each collection. */
  readonly #read = new Map<ReadingKey, Observable>();
  readonly #callback: BatchObservableCallback;
  readonly #observables: Observable[];
  readonly #events: EventRecording;
  #closed = false;

  constructor(options: OtelMetricsOptions = {}) {
    argOptions('OtelMetrics', options);
    const meter = options.meter ?? metrics.getMeter('sluice');
    if (typeof meter?.createCounter !== 'function') throw new InvalidOptionError('meter', 'an OpenTelemetry Meter', meter);
    const c = metricsConfig(options, 'OtelMetrics', OTEL_KEYS);
    this.meter = meter;
    for (const key of COUNTER_KEYS) {
      const spec = INSTRUMENTS[key];
      this.#counters.set(key, meter.createCounter(spec.otel, { description: spec.help, unit: spec.unit }));
    }
    for (const key of HISTOGRAM_KEYS) {
      const spec = INSTRUMENTS[key];
      const bounds = [...(key === 'latency' ? c.latencyBuckets : key === 'signalLatency' ? SIGNAL_LATENCY_BUCKETS : c.queueWaitBuckets)];
      this.#histograms.set(key, meter.createHistogram(spec.otel, { description: spec.help, unit: spec.unit, advice: { explicitBucketBoundaries: bounds } }));
    }
    for (const key of GAUGE_KEYS) {
      const spec = INSTRUMENTS[key];
      this.#read.set(key, meter.createObservableGauge(spec.otel, { description: spec.help, unit: spec.unit }));
    }
    for (const key of READ_COUNTER_KEYS) {
      const spec = INSTRUMENTS[key];
      this.#read.set(key, meter.createObservableCounter(spec.otel, { description: spec.help, unit: spec.unit }));
    }
    this.#observables = [...this.#read.values()];
    this.#callback = (observer) => {
      this.#events.refresh();
      for (const r of readGauges(c)) observer.observe(this.#read.get(r.metric)!, r.value, r.labels);
    };
    meter.addBatchObservableCallback(this.#callback, this.#observables);
    this.#events = recordEvents(c, {
      inc: (metric, labels, n) => this.#counters.get(metric)!.add(n, labels),
      observe: (metric, labels, seconds) => this.#histograms.get(metric)!.record(seconds, labels),
    });
  }

  /** With `events: 'gates'` and `gates` a function: listen to the gates it returns now (each collection does too). See PrometheusMetrics.refresh. */
  refresh(): void {
    this.#events.refresh();
  }

  /** Stop recording and observing. OpenTelemetry cannot remove instruments; they stop changing. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#events.stop();
    this.meter.removeBatchObservableCallback(this.#callback, this.#observables);
  }
}

/** `registerOtelMetrics({ meter, gates })`: see {@link OtelMetrics}. */
export function registerOtelMetrics(options?: OtelMetricsOptions): OtelMetrics {
  return new OtelMetrics(options);
}
