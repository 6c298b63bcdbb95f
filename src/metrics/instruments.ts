/**
 * The instruments both metrics adapters register, named once. Prometheus names follow its
 * conventions (`_total` counters, base units in the name: `_seconds`, `_ratio`); the
 * OpenTelemetry names follow OTel's (dotted, the unit apart), chosen so that OTel's own
 * Prometheus exporter turns them into the same Prometheus names.
 */
import { deepFreeze } from '../core/deep-freeze.js';

/** Counters fed by gate events as they happen. */
export type CounterKey = 'admissions' | 'rejections' | 'releases' | 'drops' | 'breakerTransitions';
/**
 * Counters read at scrape time from a running total something keeps (a budget's refusals, a
 * consumer's deliveries): a counter whose value is the total read, so rate() and increase()
 * work and a restart's drop reads as a counter reset.
 */
export type ReadCounterKey = 'retryRefused' | BrokerTotalKey;
export type HistogramKey = 'queueWait' | 'latency' | 'signalLatency';
export type GaugeKey =
  | 'inFlight'
  | 'queueDepth'
  | 'queueCapacity'
  | 'limit'
  | 'tokens'
  | 'breakerState'
  | 'pressureLevel'
  | 'pressure'
  | 'pressureSignal'
  | 'retryRequests'
  | 'retryRetries'
  | 'brokerLag'
  | 'desiredConsumers'
  | BrokerLevelKey
  | 'brokerConnection';
/** What a broker consumer or its source holds now, read at scrape time under a `source` label. */
export type BrokerLevelKey = 'brokerHeld' | 'brokerHeldBytes' | 'brokerHeldDeadLetters' | 'brokerParked' | 'brokerPausedPartitions';
/** What a broker consumer or its source has counted since it began, read at scrape time under a `source` label. */
export type BrokerTotalKey =
  | 'brokerGroupJoins'
  | 'brokerReceived'
  | 'brokerFailed'
  | 'brokerTimedOut'
  | 'brokerRetried'
  | 'brokerDeadLettered'
  | 'brokerSettleErrors'
  | 'brokerReconnects'
  | 'brokerCountedRedeliveries'
  | 'brokerDeadLetterRefusals';
export type BrokerCountKey = BrokerLevelKey | BrokerTotalKey;
/** What is read at scrape time: levels (gauges) and running totals (counters). */
export type ReadingKey = GaugeKey | ReadCounterKey;
export type InstrumentKey = CounterKey | HistogramKey | ReadingKey;

export interface InstrumentSpec {
  readonly type: 'counter' | 'histogram' | 'gauge';
  /** Prometheus metric name. */
  readonly prometheus: string;
  /** OpenTelemetry instrument name. */
  readonly otel: string;
  /** UCUM unit for OpenTelemetry ('s', '1', or an annotation in braces). */
  readonly unit: string;
  readonly help: string;
  /** Label names (attribute keys), the optional `tenant` excluded. */
  readonly labels: readonly string[];
  /**
   * A counter read at scrape time: the Prometheus name it had when it was served as a gauge,
   * still served (a gauge, its HELP saying Deprecated) so dashboards and alerts on it go on
   * working until they move to the counter. To be removed in the next major version.
   */
  readonly deprecatedGauge?: string;
}

export const INSTRUMENTS: Readonly<Record<InstrumentKey, InstrumentSpec>> = deepFreeze({
  admissions: { type: 'counter', prometheus: 'sluice_admissions_total', otel: 'sluice.admissions', unit: '{admission}', help: 'Admissions granted, by gate.', labels: ['gate', 'kind'] },
  rejections: { type: 'counter', prometheus: 'sluice_rejections_total', otel: 'sluice.rejections', unit: '{rejection}', help: 'Admissions refused, by gate and reason.', labels: ['gate', 'kind', 'reason'] },
  releases: { type: 'counter', prometheus: 'sluice_releases_total', otel: 'sluice.releases', unit: '{release}', help: 'Permits released, by gate and outcome.', labels: ['gate', 'kind', 'outcome'] },
  drops: { type: 'counter', prometheus: 'sluice_drops_total', otel: 'sluice.drops', unit: '{item}', help: 'Accepted items or waiters removed by a policy (drop-oldest, codel, ...).', labels: ['gate', 'kind', 'policy'] },
  breakerTransitions: {
    type: 'counter',
    prometheus: 'sluice_breaker_transitions_total',
    otel: 'sluice.breaker.transitions',
    unit: '{transition}',
    help: 'Circuit breaker state changes, by the state entered: each opening counts, however soon the breaker closed again (the state gauge, read at scrape time, misses those).',
    labels: ['gate', 'to'],
  },
  queueWait: { type: 'histogram', prometheus: 'sluice_queue_wait_seconds', otel: 'sluice.queue.wait', unit: 's', help: 'Time admitted work waited before its grant.', labels: ['gate', 'kind'] },
  latency: { type: 'histogram', prometheus: 'sluice_latency_seconds', otel: 'sluice.latency', unit: 's', help: 'Time from grant to release, by outcome.', labels: ['gate', 'kind', 'outcome'] },
  signalLatency: {
    type: 'histogram',
    prometheus: 'sluice_signal_latency_seconds',
    otel: 'sluice.signal.latency',
    unit: 's',
    help: 'M10: from overload onset (queue, limit or tokens exhausted) to the first refusal or limit change, per overload episode.',
    labels: ['gate', 'kind'],
  },
  inFlight: { type: 'gauge', prometheus: 'sluice_in_flight', otel: 'sluice.in_flight', unit: '{unit}', help: 'Units of admitted work not yet released.', labels: ['gate', 'kind'] },
  queueDepth: { type: 'gauge', prometheus: 'sluice_queue_depth', otel: 'sluice.queue.depth', unit: '{waiter}', help: 'Callers or items waiting in the gate.', labels: ['gate', 'kind'] },
  queueCapacity: { type: 'gauge', prometheus: 'sluice_queue_capacity', otel: 'sluice.queue.capacity', unit: '{waiter}', help: 'Most callers or items the gate may hold waiting (absent when it has no queue).', labels: ['gate', 'kind'] },
  limit: { type: 'gauge', prometheus: 'sluice_limit', otel: 'sluice.limit', unit: '{unit}', help: 'Current limit (concurrency limit, bucket capacity); absent when unlimited.', labels: ['gate', 'kind'] },
  tokens: { type: 'gauge', prometheus: 'sluice_tokens', otel: 'sluice.tokens', unit: '{token}', help: 'Tokens available now (rate gates, pacers).', labels: ['gate', 'kind'] },
  breakerState: { type: 'gauge', prometheus: 'sluice_breaker_state', otel: 'sluice.breaker.state', unit: '1', help: 'Circuit breaker state: 1 for the current state, 0 for the others.', labels: ['gate', 'state'] },
  pressureLevel: { type: 'gauge', prometheus: 'sluice_pressure_level', otel: 'sluice.pressure.level', unit: '1', help: 'Pressure level: 1 for the current level, 0 for the others.', labels: ['monitor', 'level'] },
  pressure: { type: 'gauge', prometheus: 'sluice_pressure_ratio', otel: 'sluice.pressure', unit: '1', help: 'Highest signal pressure at the last sample, 0 to 1.', labels: ['monitor'] },
  pressureSignal: { type: 'gauge', prometheus: 'sluice_pressure_signal_ratio', otel: 'sluice.pressure.signal', unit: '1', help: 'Pressure of one signal (event-loop delay, heap, RSS, queue) at the last sample, 0 to 1.', labels: ['monitor', 'signal'] },
  retryRequests: { type: 'gauge', prometheus: 'sluice_retry_window_requests', otel: 'sluice.retry.window.requests', unit: '{request}', help: 'Logical requests in the retry budget window.', labels: ['budget'] },
  retryRetries: { type: 'gauge', prometheus: 'sluice_retry_window_retries', otel: 'sluice.retry.window.retries', unit: '{retry}', help: 'Retries granted in the retry budget window.', labels: ['budget'] },
  retryRefused: {
    type: 'counter',
    prometheus: 'sluice_retry_refused_total',
    otel: 'sluice.retry.refused',
    unit: '{retry}',
    help: 'Retries the budget refused since it was created.',
    labels: ['budget'],
    deprecatedGauge: 'sluice_retry_refused',
  },
  brokerLag: { type: 'gauge', prometheus: 'sluice_broker_lag', otel: 'sluice.broker.lag', unit: '{message}', help: 'M2: messages waiting for a broker consumer group (queue depth, num_pending, log-end minus committed), at the last read.', labels: ['source'] },
  desiredConsumers: { type: 'gauge', prometheus: 'sluice_broker_desired_consumers', otel: 'sluice.broker.desired_consumers', unit: '{consumer}', help: 'Consumers that would drain the lag in time while keeping up with arrivals: the autoscaling signal.', labels: ['source'] },
  ...brokerTotal('brokerReceived', 'received', '{message}', 'Deliveries a broker consumer handed to its handler.'),
  ...brokerTotal('brokerFailed', 'failed', '{message}', 'Handler failures (throws, rejections, timeouts) of a broker consumer.'),
  ...brokerTotal('brokerTimedOut', 'timed_out', '{message}', 'Handlers that outlasted handlerTimeoutMs, counted in failed too.'),
  ...brokerTotal('brokerRetried', 'retried', '{message}', 'Failed deliveries scheduled for another attempt.'),
  ...brokerTotal('brokerDeadLettered', 'dead_lettered', '{message}', 'Deliveries dead-lettered by a broker consumer.'),
  ...brokerTotal('brokerSettleErrors', 'settle_errors', '{settlement}', 'Settlements (ack, retry, dead letter) the broker refused; the message goes back to it by its own rules.'),
  ...brokerTotal('brokerReconnects', 'reconnects', '{reconnect}', "Lost connections the source's client re-established."),
  ...brokerTotal('brokerCountedRedeliveries', 'counted_redeliveries', '{message}', 'RabbitMQ classic queue: redeliveries out alone when their consumer died, counted by a copy.'),
  ...brokerTotal('brokerDeadLetterRefusals', 'dead_letter_refusals', '{refusal}', 'Dead letters the broker refused, each try (RabbitMQ).'),
  ...brokerLevel('brokerHeld', 'held', '{message}', 'Messages a broker consumer holds taken and unsettled now: the source buffer, the queue, the handlers, settlements in progress.'),
  ...brokerLevel('brokerHeldBytes', 'held_bytes', 'By', 'Bytes of the message bodies a RabbitMQ source holds taken and unacknowledged now.'),
  ...brokerLevel('brokerHeldDeadLetters', 'held_dead_letters', '{message}', 'RabbitMQ: messages held now because the broker refused their dead letter, waiting to try it again.'),
  ...brokerLevel('brokerParked', 'parked', '{message}', 'Redis Streams: entries parked now, their dead letter refused deadLetterTries times; left pending until an operator acts.'),
  ...brokerTotal('brokerGroupJoins', 'group_joins', '{join}', 'Kafka: times the consumer (re)joined its group, the first included: a rising count is a rebalance storm.'),
  ...brokerLevel('brokerPausedPartitions', 'paused_partitions', '{partition}', 'Kafka: partitions paused now because their buffer is full.'),
  brokerConnection: { type: 'gauge', prometheus: 'sluice_broker_connection', otel: 'sluice.broker.connection', unit: '1', help: "A broker source's connection: 1 for the current state (up, reconnecting, down), 0 for the others (consumers of one source name: how many are in each).", labels: ['source', 'state'] },
});

function brokerLevel(key: BrokerLevelKey, name: string, unit: string, help: string): Record<BrokerLevelKey, InstrumentSpec> {
  const spec: InstrumentSpec = { type: 'gauge', prometheus: `sluice_broker_${name}`, otel: `sluice.broker.${name}`, unit, help, labels: ['source'] };
  return { [key]: spec } as Record<BrokerLevelKey, InstrumentSpec>;
}

/** A running total: `sluice_broker_<name>_total`, a counter; the gauge it was (`sluice_broker_<name>`) kept, deprecated. */
function brokerTotal(key: BrokerTotalKey, name: string, unit: string, help: string): Record<BrokerTotalKey, InstrumentSpec> {
  const spec: InstrumentSpec = { type: 'counter', prometheus: `sluice_broker_${name}_total`, otel: `sluice.broker.${name}`, unit, help, labels: ['source'], deprecatedGauge: `sluice_broker_${name}` };
  return { [key]: spec } as Record<BrokerTotalKey, InstrumentSpec>;
}

export const COUNTER_KEYS: readonly CounterKey[] = ['admissions', 'rejections', 'releases', 'drops', 'breakerTransitions'];
export const HISTOGRAM_KEYS: readonly HistogramKey[] = ['queueWait', 'latency', 'signalLatency'];
export const BROKER_TOTAL_KEYS: readonly BrokerTotalKey[] = [
  'brokerReceived',
  'brokerFailed',
  'brokerTimedOut',
  'brokerRetried',
  'brokerDeadLettered',
  'brokerSettleErrors',
  'brokerReconnects',
  'brokerCountedRedeliveries',
  'brokerDeadLetterRefusals',
  'brokerGroupJoins',
];
export const BROKER_LEVEL_KEYS: readonly BrokerLevelKey[] = ['brokerHeld', 'brokerHeldBytes', 'brokerHeldDeadLetters', 'brokerParked', 'brokerPausedPartitions'];
/** Counters read at scrape time. */
export const READ_COUNTER_KEYS: readonly ReadCounterKey[] = ['retryRefused', ...BROKER_TOTAL_KEYS];
export const GAUGE_KEYS: readonly GaugeKey[] = ['inFlight', 'queueDepth', 'queueCapacity', 'limit', 'tokens', 'breakerState', 'pressureLevel', 'pressure', 'pressureSignal', 'retryRequests', 'retryRetries', 'brokerLag', 'desiredConsumers', ...BROKER_LEVEL_KEYS, 'brokerConnection'];

/** Counters that take the optional `tenant` label. */
export const TENANT_COUNTERS: readonly CounterKey[] = ['admissions', 'rejections'];

export type Labels = Record<string, string>;
