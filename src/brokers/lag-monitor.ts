/**
 * Polls a source's lag (M2: messages waiting for the consumer group) every `intervalMs` and
 * keeps the last reading, with its rate of change; a read never overlaps the previous one.
 * The reading is a pressure signal (`signal()`), drives the producer throttle, and feeds the
 * desired-consumer count. A failed read keeps the last value and is counted.
 */
import type { Clock, TimerHandle } from '../core/index.js';
import { optionKeys, optKnownKeys, optNumber } from '../core/index.js';
import type { Signal, WatermarkOptions } from '../pressure/index.js';
import { customSignal } from '../pressure/index.js';
import { nonEmpty } from './options.js';
import { argSource } from './source.js';
import { optClock } from '../core/options.js';

export interface LagSource {
  readonly name: string;
  lag(): Promise<number>;
}

export interface LagMonitorOptions {
  /** The `source` label of the lag gauge. Non-empty. @default source.name */
  readonly name?: string;
  /** Between two reads, ms. > 0. @default 1000 */
  readonly intervalMs?: number;
  /** @default systemClock */
  readonly clock?: Clock;
}

export interface LagReading {
  /** Messages waiting; NaN before the first good read. */
  readonly lag: number;
  /** Change of the lag per second between the last two good reads (positive: growing); 0 until two reads. */
  readonly growthPerSec: number;
  /** Clock time of the last good read. */
  readonly at: number;
  readonly failedReads: number;
  readonly lastError: unknown;
}

const LAG_MONITOR_KEYS = optionKeys<LagMonitorOptions>({ name: true, intervalMs: true, clock: true });

export class LagMonitor {
  readonly source: LagSource;
  /** What the metrics call it (the gauges' `source` label). */
  readonly name: string;
  readonly intervalMs: number;
  readonly #clock: Clock;
  #lag = NaN;
  #growth = 0;
  #at = NaN;
  #failed = 0;
  #lastError: unknown;
  #timer: TimerHandle | undefined;
  #reading: Promise<void> | undefined;
  #running = false;
  readonly #listeners = new Set<(r: LagReading) => void>();

  constructor(source: LagSource, options: LagMonitorOptions = {}) {
    argSource(source, ['lag'], 'a lag source (an object with name and lag(): a broker source)');
    optKnownKeys('LagMonitor', options, LAG_MONITOR_KEYS);
    this.source = source;
    this.name = options.name === undefined ? source.name : nonEmpty('name', options.name);
    this.intervalMs = optNumber('intervalMs', options.intervalMs ?? 1000, Number.MIN_VALUE);
    this.#clock = optClock(options.clock);
  }

  get reading(): LagReading {
    return { lag: this.#lag, growthPerSec: this.#growth, at: this.#at, failedReads: this.#failed, lastError: this.#lastError };
  }

  /** The last good lag, NaN before the first. */
  get lag(): number {
    return this.#lag;
  }

  /** Called after every good read. Returns the function that removes it. */
  onReading(listener: (r: LagReading) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Read now (and then every interval). Resolves after the first read. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    await this.read();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  /** One read now (joins a read in progress). */
  read(): Promise<void> {
    this.#reading ??= this.#read().finally(() => {
      this.#reading = undefined;
      if (this.#running) {
        if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
        this.#timer = this.#clock.setTimer(() => void this.read(), this.intervalMs);
      }
    });
    return this.#reading;
  }

  async #read(): Promise<void> {
    let lag: number;
    try {
      lag = await this.source.lag();
    } catch (err) {
      this.#failed++;
      this.#lastError = err;
      return;
    }
    const now = this.#clock.now();
    if (!Number.isNaN(this.#lag) && now > this.#at) this.#growth = ((lag - this.#lag) * 1000) / (now - this.#at);
    this.#lag = lag;
    this.#at = now;
    const r = this.reading;
    for (const l of this.#listeners) l(r);
  }

  /** The lag as a pressure signal for a PressureMonitor (or a throttle): watermarks in messages. */
  signal(options: WatermarkOptions & { readonly slowAt: number; readonly rejectAt: number; readonly name?: string }): Signal {
    return customSignal({ ...options, name: options.name ?? `lag ${this.name}`, read: () => this.#lag });
  }
}
