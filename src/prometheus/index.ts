/** `sluice/prometheus`: sluice's gates, breakers and pressure monitors as prom-client metrics (prom-client is an optional peer). */
export { PrometheusMetrics, registerPrometheusMetrics } from './prometheus-metrics.js';
export type { PrometheusMetricsOptions } from './prometheus-metrics.js';
export { INSTRUMENTS, LATENCY_BUCKETS, METRICS_DEFAULTS } from '../metrics/index.js';
export type { BrokerGaugeSource, ConsumerStatsSource, InstrumentSpec, MetricsOptions, SnapshotSource, Sources, StatsSource, TenantLabelOptions } from '../metrics/index.js';
