/** Options both metrics adapters share: one interface, one defaults constant, validated once. */
import { InvalidOptionError, optFunction, optInt, optNumber, optOneOf, optTenantKeys, systemClock } from '../core/index.js';
import type { Clock, GateListener, GateStats, TenantKeys } from '../core/index.js';
import type { PressureSnapshot } from '../pressure/index.js';
import type { RetryBudgetStats } from '../retry/index.js';
import { TenantLabel } from './tenant-label.js';
import { optClock } from '../core/options.js';
import { optionKeys, optKnownKeys } from '../core/option-keys.js';
import type { OptionKeyMap } from '../core/option-keys.js';
import { deepFreeze } from '../core/deep-freeze.js';

/** What gauges read at collection time: any gate (its `stats()`); `on` is needed for `events: 'gates'`. */
export interface StatsSource {
  stats(): GateStats;
  on?(listener: GateListener): () => void;
}

/** What the pressure gauges read: a PressureMonitor. */
export interface SnapshotSource {
  snapshot(): PressureSnapshot;
}

/** What the retry gauges read: a RetryBudget, under a name. */
export interface BudgetSource {
  readonly name: string;
  stats(): RetryBudgetStats;
}

/** What the broker gauges read: a LagMonitor (lag) or a ConsumerScaling (lag and desired consumers) of `sluice/brokers`. */
export interface BrokerGaugeSource {
  /** The `source` label. */
  readonly name: string;
  /** Messages waiting (M2); NaN before the first read (then left out). */
  readonly lag: number;
  /** Consumers wanted; absent or NaN when not known (then left out). */
  readonly desiredConsumers?: number;
}

/**
 * What the broker consumer gauges read: a BrokerConsumer of `sluice/brokers` (its `stats()`),
 * and from its source the counts that source keeps (RabbitMQ, Redis Streams, Kafka).
 */
export interface ConsumerStatsSource {
  stats(): {
    /** The `source` label. */
    readonly source: string;
    readonly received: number;
    readonly failed: number;
    readonly timedOut: number;
    readonly retried: number;
    readonly deadLettered: number;
    readonly settleErrors: number;
    readonly held: number;
    readonly connection: string;
    readonly reconnects: number;
  };
  readonly source: {
    readonly name: string;
    readonly countedRedeliveries?: number;
    readonly deadLetterRefusals?: number;
    readonly heldDeadLetters?: number;
    readonly heldBytes?: number;
    readonly parked?: readonly unknown[];
    readonly pausedPartitions?: readonly unknown[];
    stats?(): { readonly joins?: number };
  };
}

/** A fixed list, or a function asked at every collection (for gates that come and go: `() => client.gates()`). */
export type Sources<T> = readonly T[] | (() => Iterable<T>);

export interface TenantLabelOptions {
  /**
   * Tenants with their own label value at a time: the heaviest by recent volume (a newcomer
   * takes the place of the lightest once it has more than twice its volume); the others share
   * `overflow`. Integer in [1, 10_000].
   */
  readonly maxValues: number;
  /** The shared value of the other tenants. Non-empty. @default 'other' */
  readonly overflow?: string;
  /** Recent volume: each tenant's events, halved every this many ms. In [1000, 86400000]. @default 60000 */
  readonly halfLifeMs?: number;
  /** Time for `halfLifeMs` (a VirtualClock in tests). @default the system clock */
  readonly clock?: Pick<Clock, 'now'>;
  /**
   * How a key becomes a label value: 'hash', a stable short hash (`key:#3f9a1c2b7d0e`; an
   * address, `ip:…`, as it is), so a scrape never carries an API key; 'raw', the key itself.
   * @default 'hash'
   */
  readonly keys?: TenantKeys;
}

export interface MetricsOptions {
  /** Gates whose stats become gauges (in flight, queue depth, limit, tokens, breaker state), read at collection time. @default none */
  readonly gates?: Sources<StatsSource>;
  /** Pressure monitors whose level and pressure become gauges. @default none */
  readonly monitors?: Sources<SnapshotSource>;
  /** Retry budgets whose window counts become gauges (M6, retry rate = retries / requests). @default none */
  readonly budgets?: Sources<BudgetSource>;
  /** Broker consumers whose lag (M2) and desired-consumer count become gauges: LagMonitors or ConsumerScalings. @default none */
  readonly brokers?: Sources<BrokerGaugeSource>;
  /**
   * Broker consumers whose counts become gauges under their source's name: received, failed,
   * retried, dead-lettered, settle errors, reconnects, held, the connection's state, and what
   * their source counts (RabbitMQ dead-letter refusals...). @default none
   */
  readonly consumers?: Sources<ConsumerStatsSource>;
  /**
   * Measure M10, signal latency, by sampling `gates` every `intervalMs` (an unref'd timer):
   * see SignalLatency. Integer ms in [10, 60_000]. @default off
   */
  readonly signalLatency?: { readonly intervalMs: number };
  /**
   * Where counters and histograms come from. 'channels': every sluice gate in the process,
   * through `node:diagnostics_channel` (`sluice:admit|reject|release|drop`), gates created
   * later included, and other gates of the same names. 'gates': only the `gates` given,
   * through their `on()` listeners; with `gates` a function, each gate it returns is
   * listened to from the adapter's start, each collection or `refresh()`, whichever comes
   * first after it appears (call `refresh()` once a new gate exists, before it admits).
   * @default 'channels'
   */
  readonly events?: 'channels' | 'gates';
  /** Record events of a gate only when this returns true. @default every gate */
  readonly filter?: (gate: string, kind: string) => boolean;
  /** A `tenant` label (from the admission context's `key`) on admissions and rejections, with bounded cardinality. @default off */
  readonly tenantLabel?: TenantLabelOptions;
  /** Bucket bounds of the latency histogram, seconds, increasing. @default LATENCY_BUCKETS */
  readonly latencyBuckets?: readonly number[];
  /** Bucket bounds of the queue-wait histogram, seconds, increasing. @default LATENCY_BUCKETS */
  readonly queueWaitBuckets?: readonly number[];
}

/** Signal latency: from one sample period (0.01 s) to half a minute. */
export const SIGNAL_LATENCY_BUCKETS: readonly number[] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** From 1 ms to 10 s: request latencies and queue waits. */
export const LATENCY_BUCKETS: readonly number[] = deepFreeze([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);

export const METRICS_DEFAULTS = deepFreeze({ events: 'channels', tenantOverflow: 'other', tenantHalfLifeMs: 60_000, latencyBuckets: LATENCY_BUCKETS, queueWaitBuckets: LATENCY_BUCKETS } as const);

/** The options both adapters read; each adds its own (`meter`, `registry`) and checks the keys with {@link metricsConfig}. */
export const METRICS_KEY_MAP: OptionKeyMap<MetricsOptions> = {
  gates: true,
  monitors: true,
  budgets: true,
  brokers: true,
  consumers: true,
  signalLatency: true,
  events: true,
  filter: true,
  tenantLabel: true,
  latencyBuckets: true,
  queueWaitBuckets: true,
};
const METRICS_KEYS = optionKeys(METRICS_KEY_MAP);
const SIGNAL_LATENCY_KEYS = optionKeys<{ readonly intervalMs: number }>({ intervalMs: true });
const TENANT_LABEL_KEYS = optionKeys<TenantLabelOptions>({ maxValues: true, overflow: true, halfLifeMs: true, clock: true, keys: true });

export interface MetricsConfig {
  readonly gates: () => Iterable<StatsSource>;
  readonly monitors: () => Iterable<SnapshotSource>;
  readonly budgets: () => Iterable<BudgetSource>;
  readonly brokers: () => Iterable<BrokerGaugeSource>;
  readonly consumers: () => Iterable<ConsumerStatsSource>;
  /** Sample period of the signal-latency sampler, ms; undefined: off. */
  readonly signalLatencyMs: number | undefined;
  readonly events: 'channels' | 'gates';
  readonly filter: ((gate: string, kind: string) => boolean) | undefined;
  readonly tenant: TenantLabel | undefined;
  readonly latencyBuckets: readonly number[];
  readonly queueWaitBuckets: readonly number[];
}

/**
 * The shared options, checked once: `owner` names the adapter in the error of an unknown key,
 * `known` is every key it reads (the shared ones and its own).
 */
export function metricsConfig(o: MetricsOptions, owner = 'metrics', known: readonly string[] = METRICS_KEYS): MetricsConfig {
  optKnownKeys(owner, o, known);
  const gates = sources('gates', o.gates);
  const monitors = sources('monitors', o.monitors);
  const budgets = sources('budgets', o.budgets);
  const brokers = sources('brokers', o.brokers);
  const consumers = sources('consumers', o.consumers);
  let signalLatencyMs: number | undefined;
  if (o.signalLatency !== undefined) {
    if (typeof o.signalLatency !== 'object' || o.signalLatency === null) throw new InvalidOptionError('signalLatency', 'an object { intervalMs }', o.signalLatency);
    optKnownKeys('signalLatency', o.signalLatency, SIGNAL_LATENCY_KEYS, 'signalLatency.');
    signalLatencyMs = optInt('signalLatency.intervalMs', o.signalLatency.intervalMs, 10, 60_000);
  }
  const events = optOneOf('events', o.events ?? METRICS_DEFAULTS.events, ['channels', 'gates'] as const);
  if (events === 'gates') {
    // A function's gates are listened to as they appear (event-recorder.ts); a list must name some.
    if (typeof o.gates !== 'function' && (!Array.isArray(o.gates) || o.gates.length === 0)) throw new InvalidOptionError('gates', "a non-empty array or a function when events is 'gates'", o.gates);
    if (Array.isArray(o.gates)) {
      (o.gates as readonly StatsSource[]).forEach((g, i) => {
        if (typeof g?.on !== 'function') throw new InvalidOptionError(`gates[${i}]`, "a gate with on() when events is 'gates'", g);
      });
    }
  }
  optFunction('filter', o.filter);
  if (Array.isArray(o.gates)) {
    const seen = new Set<string>();
    (o.gates as readonly StatsSource[]).forEach((g, i) => {
      if (typeof g?.stats !== 'function') throw new InvalidOptionError(`gates[${i}]`, 'a gate (with stats())', g);
      const s = g.stats();
      if (o.filter === undefined || o.filter(s.name, s.kind)) checkDistinct(seen, s);
    });
  }
  if (Array.isArray(o.brokers)) {
    const seen = new Set<string>();
    (o.brokers as readonly BrokerGaugeSource[]).forEach((b, i) => {
      if (typeof b?.name !== 'string') throw new InvalidOptionError(`brokers[${i}]`, 'a LagMonitor or a ConsumerScaling (with a name)', b);
      checkDistinctSource(seen, b.name);
    });
  }
  if (Array.isArray(o.consumers)) {
    // Read at every scrape: a wrong entry (a LagMonitor, which goes in `brokers`) would fail each scrape instead.
    (o.consumers as readonly ConsumerStatsSource[]).forEach((c, i) => {
      if (typeof c?.stats !== 'function' || typeof c.source !== 'object' || c.source === null) throw new InvalidOptionError(`consumers[${i}]`, 'a BrokerConsumer (with stats() and source)', c);
    });
  }
  let tenant: TenantLabel | undefined;
  if (o.tenantLabel !== undefined) {
    if (typeof o.tenantLabel !== 'object' || o.tenantLabel === null) throw new InvalidOptionError('tenantLabel', 'an object { maxValues }', o.tenantLabel);
    optKnownKeys('tenantLabel', o.tenantLabel, TENANT_LABEL_KEYS, 'tenantLabel.');
    const maxValues = optInt('tenantLabel.maxValues', o.tenantLabel.maxValues, 1, 10_000);
    const overflow = o.tenantLabel.overflow ?? METRICS_DEFAULTS.tenantOverflow;
    if (typeof overflow !== 'string' || overflow.length === 0) throw new InvalidOptionError('tenantLabel.overflow', 'a non-empty string', overflow);
    const halfLifeMs = optNumber('tenantLabel.halfLifeMs', o.tenantLabel.halfLifeMs ?? METRICS_DEFAULTS.tenantHalfLifeMs, 1000, 86_400_000);
    const clock = optClock(o.tenantLabel.clock, systemClock, 'tenantLabel.clock', true);
    tenant = new TenantLabel(maxValues, overflow, optTenantKeys('tenantLabel.keys', o.tenantLabel.keys), halfLifeMs, clock);
  }
  return {
    gates,
    monitors,
    budgets,
    brokers,
    consumers,
    signalLatencyMs,
    events,
    filter: o.filter,
    tenant,
    latencyBuckets: buckets('latencyBuckets', o.latencyBuckets ?? METRICS_DEFAULTS.latencyBuckets),
    queueWaitBuckets: buckets('queueWaitBuckets', o.queueWaitBuckets ?? METRICS_DEFAULTS.queueWaitBuckets),
  };
}

/**
 * Gates of one adapter are told apart by their labels (name and kind): two with the same ones
 * would make one series of their counts and a gauge showing either. `seen` holds the labels
 * met so far (one collection, or the list given); throws, naming the duplicate.
 */
export function checkDistinct(seen: Set<string>, s: GateStats): void {
  const key = `${s.kind}\u0000${s.name}`;
  if (seen.has(key)) throw new InvalidOptionError('gates', `gates of distinct names (two ${s.kind} gates are named ${JSON.stringify(s.name)}; give each its own)`, s.name);
  seen.add(key);
}

/**
 * Lag sources of one adapter are told apart by their `source` label: two LagMonitors (or
 * ConsumerScalings) of one name would be one series showing either's lag. Throws, naming it.
 */
export function checkDistinctSource(seen: Set<string>, name: string): void {
  if (seen.has(name)) throw new InvalidOptionError('brokers', `LagMonitors and ConsumerScalings of distinct names (two are named ${JSON.stringify(name)}: give each LagMonitor its own name option, and list a ConsumerScaling without its monitor)`, name);
  seen.add(name);
}

function sources<T>(name: string, value: Sources<T> | undefined): () => Iterable<T> {
  if (value === undefined) return () => [];
  if (typeof value === 'function') return value;
  if (!Array.isArray(value)) throw new InvalidOptionError(name, 'an array or a function returning an iterable', value);
  const list = [...(value as readonly T[])];
  return () => list;
}

function buckets(name: string, value: readonly number[]): readonly number[] {
  if (!Array.isArray(value) || value.length === 0) throw new InvalidOptionError(name, 'a non-empty array of seconds', value);
  const list: readonly number[] = value;
  list.forEach((b, i) => {
    optNumber(`${name}[${i}]`, b, Number.MIN_VALUE, Number.MAX_VALUE);
    if (i > 0 && b <= list[i - 1]!) throw new InvalidOptionError(`${name}[${i}]`, `> ${list[i - 1]} (increasing bounds)`, b);
  });
  return [...list];
}
