/**
 * Gauges, and counters of running totals kept elsewhere (a budget's refusals, a consumer's
 * deliveries), read at collection time from `stats()` and `snapshot()`, so nothing is kept between
 * scrapes and a gate that is gone is gone from the metrics too. Non-finite values (an
 * unlimited limit) are left out rather than exported as +Inf. Enumerations (breaker state,
 * pressure level) are one series per value, 1 for the current one (Prometheus' StateSet).
 * Two gates with the same name and kind are an error (checkDistinct), not one gauge showing either.
 */
import { BREAKER_STATES } from '../breaker/index.js';
import { PRESSURE_LEVELS } from '../pressure/index.js';
import type { BrokerCountKey, Labels, ReadingKey } from './instruments.js';
import { checkDistinct, checkDistinctSource } from './options.js';
import type { ConsumerStatsSource, MetricsConfig } from './options.js';

export interface GaugeReading {
  /** A gauge, or a counter read at collection time (INSTRUMENTS[metric].type). */
  readonly metric: ReadingKey;
  readonly labels: Labels;
  readonly value: number;
}

export function readGauges(c: MetricsConfig): GaugeReading[] {
  const out: GaugeReading[] = [];
  const push = (metric: ReadingKey, labels: Labels, value: number | undefined): void => {
    if (value !== undefined && Number.isFinite(value)) out.push({ metric, labels, value });
  };
  const seen = new Set<string>();
  for (const gate of c.gates()) {
    const s = gate.stats();
    if (c.filter !== undefined && !c.filter(s.name, s.kind)) continue;
    checkDistinct(seen, s);
    const labels = { gate: s.name, kind: s.kind };
    push('inFlight', labels, s.inFlight);
    push('queueDepth', labels, s.queued);
    const capacity = (s as { capacity?: unknown }).capacity ?? (gate as { maxQueue?: unknown }).maxQueue;
    if (typeof capacity === 'number' && capacity > 0) push('queueCapacity', labels, capacity);
    push('limit', labels, s.limit);
    push('tokens', labels, s.tokens);
    const state = (s as { state?: unknown }).state;
    if (typeof state === 'string' && (BREAKER_STATES as readonly string[]).includes(state)) {
      for (const st of BREAKER_STATES) push('breakerState', { gate: s.name, state: st }, st === state ? 1 : 0);
    }
  }
  for (const monitor of c.monitors()) {
    const snap = monitor.snapshot();
    for (const level of PRESSURE_LEVELS) push('pressureLevel', { monitor: snap.name, level }, level === snap.level ? 1 : 0);
    push('pressure', { monitor: snap.name }, snap.pressure);
    for (const sig of snap.signals) push('pressureSignal', { monitor: snap.name, signal: sig.name }, sig.pressure);
  }
  for (const budget of c.budgets()) {
    const b = budget.stats();
    push('retryRequests', { budget: budget.name }, b.requests);
    push('retryRetries', { budget: budget.name }, b.retries);
    push('retryRefused', { budget: budget.name }, b.refused);
  }
  const sources = new Set<string>();
  for (const broker of c.brokers()) {
    checkDistinctSource(sources, broker.name);
    push('brokerLag', { source: broker.name }, broker.lag);
    push('desiredConsumers', { source: broker.name }, broker.desiredConsumers);
  }
  // Two consumers of one source name (the same queue, twice in a process) would be one series
  // showing either: their readings are summed (the connection: how many are in each state).
  const summed = new Map<string, { metric: ReadingKey; labels: Labels; value: number }>();
  for (const consumer of c.consumers()) {
    readConsumer(consumer, (metric, labels, value) => {
      if (value === undefined || !Number.isFinite(value)) return;
      const key = `${metric}\u0000${JSON.stringify(labels)}`;
      const prior = summed.get(key);
      if (prior === undefined) summed.set(key, { metric, labels, value });
      else prior.value += value;
    });
  }
  for (const r of summed.values()) out.push(r);
  return out;
}

const CONNECTION_STATES = ['up', 'reconnecting', 'down'] as const;

/** A source's own counts are left out where it keeps none (RabbitMQ's dead-letter refusals on a Kafka source). */
function readConsumer(consumer: ConsumerStatsSource, push: (metric: ReadingKey, labels: Labels, value: number | undefined) => void): void {
  const s = consumer.stats();
  const src = consumer.source;
  const labels = { source: s.source };
  const counts: Record<BrokerCountKey, number | undefined> = {
    brokerReceived: s.received,
    brokerFailed: s.failed,
    brokerTimedOut: s.timedOut,
    brokerRetried: s.retried,
    brokerDeadLettered: s.deadLettered,
    brokerSettleErrors: s.settleErrors,
    brokerReconnects: s.reconnects,
    brokerCountedRedeliveries: src.countedRedeliveries,
    brokerDeadLetterRefusals: src.deadLetterRefusals,
    brokerHeld: s.held,
    brokerHeldBytes: src.heldBytes,
    brokerHeldDeadLetters: src.heldDeadLetters,
    brokerParked: src.parked?.length,
    brokerGroupJoins: typeof src.stats === 'function' ? src.stats().joins : undefined,
    brokerPausedPartitions: src.pausedPartitions?.length,
  };
  for (const [metric, value] of Object.entries(counts) as [BrokerCountKey, number | undefined][]) push(metric, labels, value);
  // 'unknown' (a source that does not report its connection) is no state: no series.
  if ((CONNECTION_STATES as readonly string[]).includes(s.connection)) {
    for (const state of CONNECTION_STATES) push('brokerConnection', { source: s.source, state }, state === s.connection ? 1 : 0);
  }
}
