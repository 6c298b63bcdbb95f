/**
 * The autoscaler hook's rule, kept apart from the monitor: a combined level held for
 * `dwellMs` asks the hook for that level's delta (`slowDelta`, `rejectDelta`, `okDelta`); while
 * the level still holds, it asks again every `repeatMs`. Any level change starts a new hold.
 * Checked at each sample, so a request comes at the first sample at or after the dwell.
 * The hook owns the bounds (minimum and maximum consumers); a delta of 0 asks nothing.
 */
import { optInt, optionKeys, optKnownKeys, optNumber, InvalidOptionError } from '../core/index.js';
import { PRESSURE_DEFAULTS } from './defaults.js';
import type { PressureLevel } from './level.js';
import { warnListenerError } from '../core/listener-error.js';

export interface ScaleRequest {
  readonly level: PressureLevel;
  /** How long the level has been held, ms. */
  readonly heldMs: number;
  /** Clock time of the request. */
  readonly at: number;
  /** 1 for the first request of this hold, 2 for the first repeat, ... */
  readonly attempt: number;
}

/** Told how many consumers to add (negative: remove). A returned promise's rejection is reported as a warning. */
export type ScaleHook = (delta: number, request: ScaleRequest) => void | PromiseLike<void>;

export interface AutoscaleOptions {
  readonly onScale: ScaleHook;
  /** How long a level must hold before the first request, ms. >= 0. @default 10000 */
  readonly dwellMs?: number;
  /** Interval between requests while the level holds, ms. > 0; Infinity asks once per hold. @default 10000 */
  readonly repeatMs?: number;
  /** Delta asked while `slow` holds. Integer in [-1000000, 1000000]. @default 1 */
  readonly slowDelta?: number;
  /** Delta asked while `reject` holds. Integer in [-1000000, 1000000]. @default 2 */
  readonly rejectDelta?: number;
  /** Delta asked while `ok` holds (e.g. -1 to scale in). Integer in [-1000000, 1000000]. @default 0 */
  readonly okDelta?: number;
}

const MAX_DELTA = 1_000_000;

const AUTOSCALE_KEYS = optionKeys<AutoscaleOptions>({ onScale: true, dwellMs: true, repeatMs: true, slowDelta: true, rejectDelta: true, okDelta: true });

export class Autoscaler {
  readonly #hook: ScaleHook;
  readonly #dwellMs: number;
  readonly #repeatMs: number;
  readonly #delta: Readonly<Record<PressureLevel, number>>;
  #level: PressureLevel | undefined;
  #since = 0;
  #attempts = 0;
  #lastAt = 0;

  constructor(options: AutoscaleOptions, prefix = 'autoscale') {
    const d = PRESSURE_DEFAULTS.autoscale;
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidOptionError(prefix, 'an object { onScale, dwellMs, repeatMs, slowDelta, rejectDelta, okDelta }', options);
    optKnownKeys(prefix, options, AUTOSCALE_KEYS, `${prefix}.`);
    if (typeof options.onScale !== 'function') throw new InvalidOptionError(`${prefix}.onScale`, 'a function', options.onScale);
    this.#hook = options.onScale;
    this.#dwellMs = optNumber(`${prefix}.dwellMs`, options.dwellMs ?? d.dwellMs, 0);
    this.#repeatMs = optNumber(`${prefix}.repeatMs`, options.repeatMs ?? d.repeatMs, Number.MIN_VALUE);
    this.#delta = {
      ok: optInt(`${prefix}.okDelta`, options.okDelta ?? d.okDelta, -MAX_DELTA, MAX_DELTA),
      slow: optInt(`${prefix}.slowDelta`, options.slowDelta ?? d.slowDelta, -MAX_DELTA, MAX_DELTA),
      reject: optInt(`${prefix}.rejectDelta`, options.rejectDelta ?? d.rejectDelta, -MAX_DELTA, MAX_DELTA),
    };
  }

  /** Feed the combined level after a sample: held since `since`, observed at `now`. */
  observe(level: PressureLevel, since: number, now: number): void {
    if (level !== this.#level || since !== this.#since) {
      this.#level = level;
      this.#since = since;
      this.#attempts = 0;
    }
    const delta = this.#delta[level];
    if (delta === 0 || now - since < this.#dwellMs) return;
    if (this.#attempts > 0 && now - this.#lastAt < this.#repeatMs) return;
    this.#attempts++;
    this.#lastAt = now;
    this.#call(delta, { level, heldMs: now - since, at: now, attempt: this.#attempts });
  }

  #call(delta: number, request: ScaleRequest): void {
    try {
      const result = this.#hook(delta, request);
      if (result !== undefined && typeof result.then === 'function') {
        Promise.resolve(result).catch(warn);
      }
    } catch (err) {
      warn(err);
    }
  }
}

function warn(err: unknown): void {
  warnListenerError('the autoscale hook failed', err);
}
