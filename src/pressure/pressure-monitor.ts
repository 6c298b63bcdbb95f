/**
 * The pressure monitor: samples its signals on the injected clock's timer, runs each through
 * its own watermarks and hysteresis, and combines them into one level — the worst of theirs.
 * Listeners hear every change of the combined level once; an optional autoscaler hook is
 * asked for consumers when a level holds (see {@link Autoscaler}).
 *
 * The sampling timer is `unref`ed when the clock's timers support it (the system clock's do),
 * so a monitor never keeps the process alive; `stop()` ends it. Nothing is sampled before the
 * first interval has passed after `start()` (delay and utilisation readings need a period to
 * measure); `sample()` takes one at any time.
 */
import { abortError, InvalidArgumentError, InvalidOptionError, optionKeys, optKnownKeys, optNumber } from '../core/index.js';
import { optClock, optName } from '../core/options.js';
import type { Clock, TimerHandle } from '../core/index.js';
import { Autoscaler } from './autoscaler.js';
import type { AutoscaleOptions } from './autoscaler.js';
import { PRESSURE_DEFAULTS } from './defaults.js';
import { Hysteresis } from './hysteresis.js';
import type { PressureLevel } from './level.js';
import { levelRank } from './level.js';
import { PressureEvents } from './pressure-events.js';
import type { PressureEventType, PressureListener } from './pressure-events.js';
import type { Signal, SignalSnapshot } from './signal.js';
import type { PressureSnapshot } from './snapshot.js';
import { pressureOf } from './watermarks.js';

/** What a load shedder reads. A {@link PressureMonitor} is one; a test may pass a stub. */
export interface PressureSource {
  /** The combined level now. */
  readonly level: PressureLevel;
  /** The highest signal pressure in [0, 1] at the last sample. */
  readonly pressure: number;
  /** Ms until the level may next change (the next sample, or a dwell time still to run). */
  retryAfterMs(): number;
}

export interface PressureMonitorOptions {
  /** At least one; names unique. */
  readonly signals: readonly Signal[];
  /** Sampling period, ms. > 0. @default 1000 */
  readonly intervalMs?: number;
  /** @default systemClock */
  readonly clock?: Clock;
  /** Names the monitor in events. @default 'pressure' */
  readonly name?: string;
  /** Ask for more (or fewer) consumers while a level holds. */
  readonly autoscale?: AutoscaleOptions;
}

interface SignalState {
  readonly signal: Signal;
  readonly hysteresis: Hysteresis;
  value: number;
  pressure: number;
}

const MONITOR_KEYS = optionKeys<PressureMonitorOptions>({ name: true, clock: true, signals: true, intervalMs: true, autoscale: true });
/** waitFor()'s options: a misspelt `signal` would leave the wait unabortable. */
const WAIT_FOR_KEYS = optionKeys<{ readonly signal?: AbortSignal }>({ signal: true });

export class PressureMonitor implements PressureSource {
  readonly name: string;
  readonly clock: Clock;
  readonly intervalMs: number;
  readonly #states: SignalState[];
  readonly #events = new PressureEvents();
  readonly #autoscaler: Autoscaler | undefined;
  #level: PressureLevel = 'ok';
  #since: number;
  #pressure = 0;
  #sampledAt: number | undefined;
  #running = false;
  #sampling = false;
  #timer: TimerHandle | undefined;
  #nextAt = 0;

  constructor(options: PressureMonitorOptions) {
    if (options === undefined) throw new InvalidArgumentError('options', 'an object of PressureMonitor options', options);
    optKnownKeys('PressureMonitor', options, MONITOR_KEYS);
    this.name = optName(options.name, 'pressure');
    this.clock = optClock(options.clock);
    this.intervalMs = optNumber('intervalMs', options.intervalMs ?? PRESSURE_DEFAULTS.intervalMs, Number.MIN_VALUE);
    if (!Number.isFinite(this.intervalMs)) throw new InvalidOptionError('intervalMs', 'a finite number > 0', options.intervalMs);
    const signals = options.signals;
    if (!Array.isArray(signals) || signals.length === 0) throw new InvalidOptionError('signals', 'at least one signal', signals);
    const now = this.clock.now();
    const seen = new Set<string>();
    this.#states = signals.map((signal: Signal, i) => {
      if (typeof signal?.read !== 'function') throw new InvalidOptionError(`signals[${i}]`, 'a signal (see customSignal)', signal);
      if (seen.has(signal.name)) throw new InvalidOptionError(`signals[${i}].name`, 'a name no other signal has', signal.name);
      seen.add(signal.name);
      return { signal, hysteresis: new Hysteresis(signal.watermarks, now), value: NaN, pressure: 0 };
    });
    this.#since = now;
    this.#autoscaler = options.autoscale === undefined ? undefined : new Autoscaler(options.autoscale);
  }

  /** The combined level: the worst of the signals' levels. */
  get level(): PressureLevel {
    return this.#level;
  }

  get pressure(): number {
    return this.#pressure;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Start sampling every `intervalMs` (and start the signals). Idempotent; returns this. */
  start(): this {
    if (this.#running) return this;
    const started: Signal[] = [];
    try {
      for (const s of this.#states) {
        s.signal.start?.();
        started.push(s.signal);
      }
    } catch (err) {
      for (const s of started) s.stop?.();
      throw err;
    }
    this.#running = true;
    this.#schedule();
    return this;
  }

  /** Stop sampling and stop the signals; levels keep their last value. Idempotent. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    if (this.#timer !== undefined) this.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    for (const s of this.#states) s.signal.stop?.();
  }

  /** Subscribe to `level`, `signal` or `sample` events; returns the unsubscribe function. */
  on<K extends PressureEventType>(type: K, listener: PressureListener<K>): () => void {
    return this.#events.on(type, listener);
  }

  /**
   * Take a sample now: read every signal, update levels, tell listeners. Called by the timer;
   * callable by hand. A call from inside a listener returns the current snapshot without
   * sampling again.
   */
  sample(): PressureSnapshot {
    if (this.#sampling) return this.snapshot();
    this.#sampling = true;
    try {
      return this.#sample();
    } finally {
      this.#sampling = false;
    }
  }

  /** Each signal's value and level, and the combined level. Plain data. */
  snapshot(): PressureSnapshot {
    const signals: SignalSnapshot[] = this.#states.map((s) => ({
      name: s.signal.name,
      value: s.value,
      level: s.hysteresis.level,
      pressure: s.pressure,
      since: s.hysteresis.since,
    }));
    return { name: this.name, level: this.#level, since: this.#since, pressure: this.#pressure, sampledAt: this.#sampledAt, running: this.#running, signals };
  }

  /** Ms until the level may next change: until the next sample, or longer if a dwell time has still to run. At least 1. */
  retryAfterMs(): number {
    const now = this.clock.now();
    let ms = this.#running ? this.#nextAt - now : this.intervalMs;
    for (const s of this.#states) {
      const left = s.hysteresis.dwellLeft(now);
      if (left > ms) ms = left;
    }
    return Math.max(1, Math.ceil(ms));
  }

  /**
   * Resolves once the combined level is `level` or better (at once if it already is): a
   * producer awaits `waitFor('ok')` before sending more. Rejects with AbortedError on abort.
   */
  waitFor(level: PressureLevel = 'ok', options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    try {
      optKnownKeys('PressureMonitor.waitFor', options, WAIT_FOR_KEYS);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const target = levelRank(level);
    if (levelRank(this.#level) <= target) return Promise.resolve();
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(abortError(this.name, signal));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        off();
        reject(abortError(this.name, signal!));
      };
      const off = this.on('level', (e) => {
        if (levelRank(e.to) > target) return;
        off();
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #schedule(): void {
    this.#nextAt = this.clock.now() + this.intervalMs;
    const timer = this.clock.setTimer(this.#tick, this.intervalMs);
    // A sampler must not keep the process alive.
    (timer as { unref?: () => unknown }).unref?.();
    this.#timer = timer;
  }

  readonly #tick = (): void => {
    this.#timer = undefined;
    if (!this.#running) return;
    this.#schedule();
    this.sample();
  };

  #sample(): PressureSnapshot {
    const now = this.clock.now();
    const changed: { state: SignalState; from: PressureLevel }[] = [];
    let worst = 0;
    let pressure = 0;
    for (const s of this.#states) {
      const value = read(s.signal);
      if (value !== undefined) {
        s.value = value;
        s.pressure = pressureOf(value, s.signal.watermarks);
        const from = s.hysteresis.update(value, now);
        if (from !== undefined) changed.push({ state: s, from });
      }
      worst = Math.max(worst, levelRank(s.hysteresis.level));
      pressure = Math.max(pressure, s.pressure);
    }
    const from = this.#level;
    const to: PressureLevel = worst === 2 ? 'reject' : worst === 1 ? 'slow' : 'ok';
    this.#level = to;
    this.#pressure = pressure;
    this.#sampledAt = now;
    if (to !== from) this.#since = now;
    // State is complete before anyone hears of it: listeners see a consistent snapshot.
    if (this.#events.wants('signal')) {
      for (const { state, from: f } of changed) {
        this.#events.emit({ type: 'signal', monitor: this.name, signal: state.signal.name, from: f, to: state.hysteresis.level, value: state.value, at: now });
      }
    }
    if (to !== from && this.#events.wants('level')) {
      const causes = to === 'ok' ? [] : this.#states.filter((s) => s.hysteresis.level === to).map((s) => s.signal.name);
      this.#events.emit({ type: 'level', monitor: this.name, from, to, at: now, pressure, causes });
    }
    const snapshot = this.snapshot();
    if (this.#events.wants('sample')) this.#events.emit({ type: 'sample', monitor: this.name, at: now, snapshot });
    this.#autoscaler?.observe(this.#level, this.#since, now);
    return snapshot;
  }
}

/** A signal's reading, or undefined when it threw or was not a number (the sample is skipped). */
function read(signal: Signal): number | undefined {
  let value: unknown;
  try {
    value = signal.read();
  } catch (err) {
    process.emitWarning(`sluice: pressure signal "${signal.name}" failed to read: ${String(err)}`, { code: 'SLUICE_SIGNAL_ERROR' });
    return undefined;
  }
  return typeof value === 'number' && !Number.isNaN(value) ? value : undefined;
}
