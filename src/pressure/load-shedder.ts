/**
 * A load shedder: a gate that refuses work by criticality class when a pressure source (a
 * {@link PressureMonitor}) reports overload, lower classes first and at lower pressure, and
 * that keeps capacity the lower classes cannot take for the top class.
 *
 * Two refusals, two reasons:
 * - `overloaded`: shed by pressure (see shed-policy.ts). `retryAfterMs` is when the level may
 *   next change — the monitor's next sample, or a dwell time still to run.
 * - `concurrency`: the class's slots are full (see class-slots.ts). `retryAfterMs` estimates
 *   when a unit frees up, from the smoothed latency of released permits.
 *
 * Put it first in a composition (`compose(shedder, concurrencyGate)`) with the same limit as
 * the gate behind it: shedding is cheapest before any work is done, and its slots then bound
 * what each class holds of the gate behind.
 */
import { GateBase, InvalidArgumentError, InvalidOptionError, optionKeys, optKnownKeys, optNumber, readContext } from '../core/index.js';
import { abortError } from '../core/gate-base.js';
import type { Admission, AdmissionContext, GateOptions, GatePermit, GateStats, Outcome } from '../core/index.js';
import { Ewma } from '../core/ewma.js';
import type { ClassCeilings } from './class-slots.js';
import { resolveSlots } from './class-slots.js';
import type { CriticalityClass } from './criticality.js';
import { classOfPriority, CRITICALITY_CLASSES, isCriticalityClass } from './criticality.js';
import type { PressureSource } from './pressure-monitor.js';
import type { ShedRamps } from './shed-policy.js';
import { resolveRamps, shedProbability } from './shed-policy.js';

export interface LoadShedderOptions extends GateOptions {
  /** Where the level and pressure come from; usually a started {@link PressureMonitor}. */
  readonly pressure: PressureSource;
  /** The class of a request. @default ctx => classOfPriority(ctx.priority ?? 0) */
  readonly classify?: (ctx: AdmissionContext) => CriticalityClass;
  /** In-flight units across all classes. Integer >= 2, or Infinity (no capacity refusals). @default Infinity */
  readonly limit?: number;
  /** Fraction of `limit` the total in flight may reach for each lower class to be admitted; in (0, 1], non-increasing down the classes. @default { critical: 0.9, 'sheddable-plus': 0.8, sheddable: 0.7 } */
  readonly ceilings?: Partial<ClassCeilings>;
  /** Shed probability of the sheddable classes at level `slow`, by pressure. @default { sheddable: { from: 0, to: 0 }, 'sheddable-plus': { from: 0, to: 1 } } */
  readonly ramps?: Partial<ShedRamps>;
  /** Uniform in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** A fixed `retryAfterMs` for `overloaded` refusals, ms >= 0. @default the pressure source's estimate */
  readonly retryAfterMs?: number;
}

/** Per-class counters. */
export interface ClassStats {
  readonly class: CriticalityClass;
  /** Units this class may see in flight in total (all classes) and still be admitted. */
  readonly slots: number;
  readonly inFlight: number;
  readonly admitted: number;
  /** Refused by pressure (`overloaded`). */
  readonly shed: number;
  /** Refused for capacity (`concurrency`). */
  readonly refused: number;
}

interface ClassState {
  inFlight: number;
  admitted: number;
  shed: number;
  refused: number;
}

/** Smoothing of the latency estimate behind capacity refusals' `retryAfterMs` (EWMA weight of a new sample). */
const LATENCY_ALPHA = 0.1;

const SHEDDER_KEYS = optionKeys<LoadShedderOptions>({ name: true, clock: true, pressure: true, classify: true, limit: true, ceilings: true, ramps: true, random: true, retryAfterMs: true });

export class LoadShedder extends GateBase {
  readonly kind: string = 'shedder';
  readonly #source: PressureSource;
  readonly #classify: (ctx: AdmissionContext) => CriticalityClass;
  readonly #slots: Readonly<Record<CriticalityClass, number>>;
  readonly #ramps: ShedRamps;
  readonly #random: () => number;
  readonly #retryAfterMs: number | undefined;
  readonly #classes: Record<CriticalityClass, ClassState>;
  #inFlight = 0;
  /** Permit latency, ms: the hint behind capacity refusals' `retryAfterMs`. */
  readonly #latency = new Ewma(LATENCY_ALPHA);

  constructor(options: LoadShedderOptions) {
    super(options, 'shedder');
    optKnownKeys('LoadShedder', options, SHEDDER_KEYS);
    const src = options.pressure;
    if (typeof src !== 'object' || src === null || typeof src.retryAfterMs !== 'function') {
      throw new InvalidOptionError('pressure', 'a pressure source (a PressureMonitor)', src);
    }
    this.#source = src;
    const classify = options.classify ?? ((ctx: AdmissionContext) => classOfPriority(ctx.priority ?? 0));
    if (typeof classify !== 'function') throw new InvalidOptionError('classify', 'a function', classify);
    this.#classify = classify;
    this.#slots = resolveSlots(options.limit, options.ceilings);
    this.#ramps = resolveRamps(options.ramps);
    const random = options.random ?? Math.random;
    if (typeof random !== 'function') throw new InvalidOptionError('random', 'a function', random);
    this.#random = random;
    this.#retryAfterMs = options.retryAfterMs === undefined ? undefined : optNumber('retryAfterMs', options.retryAfterMs, 0);
    const classes = {} as Record<CriticalityClass, ClassState>;
    for (const c of CRITICALITY_CLASSES) classes[c] = { inFlight: 0, admitted: 0, shed: 0, refused: 0 };
    this.#classes = classes;
  }

  get limit(): number {
    return this.#slots['critical-plus'];
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Units only critical-plus may use: `limit - slots(critical)` (Infinity without a limit). */
  get reserve(): number {
    return this.limit === Infinity ? Infinity : this.limit - this.#slots.critical;
  }

  /**
   * The source's retryAfterMs(): a custom source that answers no number is named here (a NaN
   * went out as the refusal's Retry-After, and run() blamed rejectionError()).
   */
  #sourceRetryAfter(): number {
    const ms = this.#source.retryAfterMs();
    if (typeof ms !== 'number' || Number.isNaN(ms)) throw new InvalidArgumentError('pressure.retryAfterMs()', 'a number of ms (the pressure source\'s answer)', ms);
    return ms;
  }

  /** The class a context maps to. Throws InvalidArgumentError when `classify` returns something else. */
  classOf(ctx: AdmissionContext): CriticalityClass {
    const c = this.#classify(ctx);
    if (!isCriticalityClass(c)) throw new InvalidArgumentError('class', `one of ${CRITICALITY_CLASSES.join(', ')}`, c);
    return c;
  }

  admit(context?: AdmissionContext): Admission {
    const ctx = readContext(context, this);
    const cls = this.classOf(ctx);
    if (this.closed) return this.reject('closed', Infinity, undefined, ctx);
    // An aborted caller is refused even when it would be admitted (as every gate does).
    if (ctx.signal?.aborted) throw abortError(this.name, ctx.signal);
    const state = this.#classes[cls];
    const p = shedProbability(cls, this.#source.level, this.#source.pressure, this.#ramps);
    if (p >= 1 || (p > 0 && this.#random() < p)) {
      state.shed++;
      return this.reject('overloaded', this.#retryAfterMs ?? this.#sourceRetryAfter(), undefined, ctx);
    }
    const cost = ctx.cost ?? 1;
    const slots = this.#slots[cls];
    if (this.#inFlight + cost > slots) {
      state.refused++;
      return this.reject('concurrency', cost > slots ? Infinity : this.#capacityRetryAfter(), undefined, ctx);
    }
    this.#inFlight += cost;
    state.inFlight += cost;
    state.admitted++;
    try {
      return this.grant(ctx, cost, 0, undefined, cls);
    } catch (err) {
      // The caller's context threw as the admit event read it: nothing admitted, nothing kept.
      this.#inFlight -= cost;
      state.inFlight -= cost;
      state.admitted--;
      throw err;
    }
  }

  override onRelease(permit: GatePermit, outcome: Outcome): void {
    this.#inFlight -= permit.cost;
    this.#classes[permit.tag as CriticalityClass].inFlight -= permit.cost;
    if (outcome !== 'ignored') {
      const now = this.clock.now();
      this.#latency.add(now - permit.grantedAt, now);
    }
    super.onRelease(permit, outcome);
  }

  stats(): GateStats {
    return { ...this.baseStats(), inFlight: this.#inFlight, queued: 0, limit: this.limit, tokens: undefined };
  }

  /** Counters per class, most important first. */
  classStats(): ClassStats[] {
    return CRITICALITY_CLASSES.map((c) => ({ class: c, slots: this.#slots[c], ...this.#classes[c] }));
  }

  /** Stop admitting. Permits in flight stay valid. Idempotent. */
  close(): void {
    this.closed = true;
  }

  /** Expected wait for a unit to free: EWMA latency / limit, at least 1 ms. */
  #capacityRetryAfter(): number {
    return Math.max(1, Math.ceil(this.#latency.value / this.limit));
  }
}
