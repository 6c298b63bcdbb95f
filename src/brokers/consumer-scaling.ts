/**
 * The autoscaling signal of one consumer group, kept current: at every good lag reading of a
 * LagMonitor, the processing rate since the reading before (from `processed`, a running count
 * of messages finished) and the lag's growth go through `desiredConsumers`:
 *
 *     processedPerSec = Δprocessed / Δt · replicas       (this process's rate, times the processes alike)
 *     desired         = desiredConsumers({ lag, growthPerSec, processedPerSec, consumers: replicas, ... })
 *
 * The metrics adapters export it with the lag (`brokers: [scaling]` → `sluice_broker_lag`,
 * `sluice_broker_desired_consumers`) for an HPA (external metric) or KEDA (Prometheus scaler)
 * to read. NaN — left out of the metrics — until two readings have given a rate.
 */
import { InvalidOptionError, optInt, optionKeys, optKnownKeys, optNumber } from '../core/index.js';
import { desiredConsumers } from './desired-consumers.js';
import type { LagMonitor, LagReading } from './lag-monitor.js';
import { deepFreeze } from '../core/deep-freeze.js';
import { argOptions } from '../core/option-keys.js';

export interface ConsumerScalingOptions {
  /** The group's lag, read on its own interval. */
  readonly monitor: LagMonitor;
  /** Messages this process has finished so far, a running count: e.g. `() => consumer.stats().acked`. */
  readonly processed: () => number;
  /** Consumer processes sharing the lag, this one included; each is taken to run at this one's rate. Integer >= 1, or a function read at every reading. @default 1 */
  readonly replicas?: number | (() => number);
  /** Drain the lag within this many seconds while keeping up with arrivals. > 0. @default 60 */
  readonly drainSeconds?: number;
  /** Fewest consumers to ask for. Integer >= 0. @default 1 */
  readonly min?: number;
  /** Most consumers to ask for (also the answer while a lag stands and nothing was processed yet). Integer >= min. */
  readonly max: number;
}

export const SCALING_DEFAULTS = deepFreeze({ replicas: 1, drainSeconds: 60, min: 1 } as const);

const SCALING_KEYS = optionKeys<ConsumerScalingOptions>({ monitor: true, processed: true, replicas: true, drainSeconds: true, min: true, max: true });

export class ConsumerScaling {
  readonly monitor: LagMonitor;
  readonly #processed: () => number;
  readonly #replicas: () => number;
  readonly #drainSeconds: number;
  readonly #min: number;
  readonly #max: number;
  readonly #off: () => void;
  #last: { readonly at: number; readonly processed: number } | undefined;
  #rate = NaN;
  #desired = NaN;

  constructor(options: ConsumerScalingOptions) {
    argOptions('ConsumerScaling', options, false);
    optKnownKeys('ConsumerScaling', options, SCALING_KEYS);
    if (typeof options.processed !== 'function') throw new InvalidOptionError('processed', 'a function returning a running count', options.processed);
    this.#min = optInt('min', options.min ?? SCALING_DEFAULTS.min, 0);
    this.#max = optInt('max', options.max, Math.max(1, this.#min));
    this.#drainSeconds = optNumber('drainSeconds', options.drainSeconds ?? SCALING_DEFAULTS.drainSeconds, Number.MIN_VALUE);
    const replicas = options.replicas ?? SCALING_DEFAULTS.replicas;
    if (typeof replicas === 'function') this.#replicas = () => Math.max(1, Math.floor(replicas()) || 1);
    else {
      const n = optInt('replicas', replicas, 1);
      this.#replicas = () => n;
    }
    this.monitor = options.monitor;
    this.#processed = options.processed;
    this.#off = this.monitor.onReading((r) => this.#update(r));
  }

  /** The monitor's name: the `source` label of the gauges. */
  get name(): string {
    return this.monitor.name;
  }

  /** The last lag read, NaN before the first. */
  get lag(): number {
    return this.monitor.lag;
  }

  /** The group's processing rate, messages/s, at the last reading; NaN before two. */
  get processedPerSec(): number {
    return this.#rate;
  }

  /** Consumers wanted, at the last reading; NaN before two. */
  get desiredConsumers(): number {
    return this.#desired;
  }

  /** Stop following the monitor (the monitor itself keeps running). */
  stop(): void {
    this.#off();
  }

  #update(r: LagReading): void {
    const processed = this.#processed();
    const last = this.#last;
    this.#last = { at: r.at, processed };
    if (last === undefined || !(r.at > last.at)) return;
    const replicas = this.#replicas();
    this.#rate = (Math.max(0, processed - last.processed) * 1000 * replicas) / (r.at - last.at);
    this.#desired = desiredConsumers({ lag: r.lag, growthPerSec: r.growthPerSec, processedPerSec: this.#rate, consumers: replicas, drainSeconds: this.#drainSeconds, min: this.#min, max: this.#max });
  }
}
