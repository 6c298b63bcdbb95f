/** `sluice/otel`: sluice's gates, breakers and pressure monitors as OpenTelemetry metrics (@opentelemetry/api is an optional peer). */
export { OtelMetrics, registerOtelMetrics } from './otel-metrics.js';
export type { OtelMetricsOptions } from './otel-metrics.js';
export { INSTRUMENTS, LATENCY_BUCKETS, METRICS_DEFAULTS } from '../metrics/index.js';
export type { BrokerGaugeSource, ConsumerStatsSource, InstrumentSpec, MetricsOptions, SnapshotSource, Sources, StatsSource, TenantLabelOptions } from '../metrics/index.js';
