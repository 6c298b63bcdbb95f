/** Internal: what the Prometheus and OpenTelemetry adapters share. Not a public subpath. */
export { INSTRUMENTS, COUNTER_KEYS, HISTOGRAM_KEYS, GAUGE_KEYS, READ_COUNTER_KEYS, TENANT_COUNTERS } from './instruments.js';
export type { CounterKey, GaugeKey, HistogramKey, InstrumentKey, InstrumentSpec, Labels, ReadCounterKey, ReadingKey } from './instruments.js';
export { metricsConfig, METRICS_DEFAULTS, METRICS_KEY_MAP, LATENCY_BUCKETS, SIGNAL_LATENCY_BUCKETS } from './options.js';
export type { BrokerGaugeSource, BudgetSource, ConsumerStatsSource, MetricsConfig, MetricsOptions, SnapshotSource, Sources, StatsSource, TenantLabelOptions } from './options.js';
export { recordEvents } from './event-recorder.js';
export type { EventRecording, MetricSink } from './event-recorder.js';
export { readGauges } from './gauge-readings.js';
export type { GaugeReading } from './gauge-readings.js';
export { TenantLabel } from './tenant-label.js';
export { SignalLatency, saturated } from './signal-latency.js';
export type { SignalLatencySample } from './signal-latency.js';
