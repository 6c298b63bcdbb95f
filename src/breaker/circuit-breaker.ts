/**
 * The circuit breaker's state machine, a gate under the core contract. The trip rule
 * (a separate, stateless object whose state is plain data) decides when to open; this
 * class only enforces:
 *
 *   closed ──rule trips──▶ open ──open time over──▶ half-open ──enough probes succeed──▶ closed
 *                           ▲                          │
 *                           └──too many probes fail────┘   (open time backs off: openDuration)
 *
 * plus two operator states: 'forced-open' (`isolate()`: reject everything) and 'disabled'
 * (`disable()`: admit everything, record nothing); `reset()` returns to a fresh 'closed',
 * `halfOpen()` ends an open time early.
 *
 * No timer: open → half-open happens at the first admission (or state read) after the
 * open time, so an idle breaker costs nothing and never holds the event loop.
 *
 * Outcomes: 'success' is a success; 'failure' and 'dropped' (a timeout) are failures;
 * 'ignored' is not counted (and frees a probe slot). A permit counts only in the period
 * it was granted in: a call granted while closed that ends after the breaker opened, or a
 * permit granted before a `restoreState()`, is not recorded, so stale calls cannot decide
 * a half-open period.
 *
 * Cost: in the closed state the clock is read only as much as the rule needs (its
 * `timing`) or a listener wants; a permit granted unstamped has `grantedAt` NaN, so a
 * release listener that subscribed while it was in flight sees `latencyMs` NaN.
 */
import { diagnosticsChannels, GateBase, GatePermit, InvalidArgumentError, optionKeys, optKnownKeys, readContext, rejectionError } from '../core/index.js';
import { CONTEXT_KEY_MAP } from '../core/gate-base.js';
import type { Admission, AdmissionContext, GateStats, Outcome } from '../core/index.js';
import { Ewma } from '../core/ewma.js';
import { abortError, admittedAgain } from '../core/gate-base.js';
import { openDuration } from './open-duration.js';
import { breakerConfig } from './options.js';
import type { BreakerConfig, BreakerOptions } from './options.js';
import { readSnapshot } from './snapshot.js';
import type { BreakerSnapshot, BreakerState } from './snapshot.js';
import { breakerStateChannel } from './state-change.js';
import type { BreakerStateChange, StateChangeCause, StateChangeListener } from './state-change.js';
import type { RuleTally, TripRule } from './trip-rule.js';
import { tellListener } from '../core/listener-error.js';

export interface BreakerStats extends GateStats {
  readonly state: BreakerState;
  /** While open: ms until the first probe is let through; 'forced-open': Infinity; else 0. */
  readonly retryAfterMs: number;
  /** Openings in a row without a close (the open-time backoff exponent). */
  readonly opens: number;
  /** What the trip rule counts now (closed state). */
  readonly window: RuleTally;
  /** The current half-open period's probes. */
  readonly probes: { readonly inFlight: number; readonly succeeded: number; readonly failed: number };
}

/** `execute()` options: an admission context plus per-call classification. */
export interface ExecuteOptions<T> extends AdmissionContext {
  /** Outcome of a returned value; overrides the breaker's `classify`. */
  readonly classify?: (result: T) => Outcome;
  /** Outcome of a thrown error; overrides the breaker's `classifyError`. */
  readonly classifyError?: (error: unknown) => Outcome;
}

const EXECUTE_KEYS = optionKeys<ExecuteOptions<unknown>>({ ...CONTEXT_KEY_MAP, classify: true, classifyError: true });

const RESTORE_KEYS = optionKeys<{ readonly rebase?: boolean }>({ rebase: true });

/** Smoothing of the call-latency estimate (EWMA weight of a new sample). */
const LATENCY_ALPHA = 0.1;

/**
 * @example
 * const breaker = new CircuitBreaker({ rule: timeWindow({ windowMs: 10_000, failureRatio: 0.5 }), openMs: 5_000 });
 * const body = await breaker.execute(() => fetchUpstream()); // RejectedError 'circuit_open' while open
 */
export class CircuitBreaker extends GateBase {
  readonly kind: string = 'circuit-breaker';
  readonly #c: BreakerConfig;
  /** `#c.rule`, one load nearer: read on every release. */
  readonly #trip: TripRule;
  #state: BreakerState = 'closed';
  #rule: unknown;
  /** Incremented on every transition; a permit's tag is the period it was granted in. */
  #period = 0;
  #openUntil = 0;
  #opens = 0;
  #probesOut = 0;
  #probeOk = 0;
  #probeFailed = 0;
  #inFlight = 0;
  /** EWMA of call latency, ms: the hint given to callers refused while probes are out. */
  /** Unseeded: the snapshot keeps only the value, and a restored breaker must answer as the original. */
  readonly #latency = new Ewma(LATENCY_ALPHA, false);
  #listeners: StateChangeListener[] = [];

  constructor(options: BreakerOptions = {}) {
    super(options, 'circuit-breaker');
    this.#c = breakerConfig(options);
    this.#trip = this.#c.rule;
    this.#rule = this.#trip.initial(this.clock.now());
  }

  /** The current state (an open breaker whose open time is over reads as 'half-open'). */
  get state(): BreakerState {
    this.#tick(this.clock.now());
    return this.#state;
  }

  admit(context?: AdmissionContext): Admission {
    return this.#admit(readContext(context, this));
  }

  /** Throws AbortedError for a caller whose signal is already aborted, as `ConcurrencyGate.tryAdmit` does. */
  #admit(ctx: AdmissionContext): Admission {
    if (this.closed) return this.reject('closed', Infinity, undefined, ctx);
    if (ctx.signal?.aborted) throw abortError(this.name, ctx.signal);
    const state = this.#state;
    if (state === 'closed' || state === 'disabled') {
      this.#inFlight++;
      // The hot path: read the clock only if the rule times calls or someone listens.
      // (wants('admit') covers this gate's listeners, which hear every event type.)
      if ((state === 'closed' && this.#trip.timing === 'duration') || this.events.wants('admit') || diagnosticsChannels.release.hasSubscribers) {
        return this.grant(ctx, 1, 0, undefined, this.#period, this.clock.now());
      }
      // grant() without its event (nobody listens): count, and hand out an unstamped permit.
      if (!admittedAgain(ctx)) this.admittedCount++;
      return new GatePermit(this, this.name, 1, NaN, undefined, this.#period);
    }
    const now = this.clock.now();
    switch (state) {
      case 'open':
        // The first caller after the open time is the first probe.
        this.#tick(now);
        if (this.#state === 'open') return this.reject('circuit_open', this.#openUntil - now, undefined, ctx);
        return this.#admitProbe(ctx, now);
      case 'half-open':
        return this.#admitProbe(ctx, now);
      case 'forced-open':
        // Held open by an operator: nothing the caller can wait for.
        return this.reject('circuit_open', Infinity, undefined, ctx);
    }
  }

  /**
   * Admit, run `fn`, release with the outcome from the breaker's (or the call's)
   * `classify` / `classifyError`. A refusal rejects with RejectedError ('circuit_open',
   * `retryAfterMs` = time until the next probe).
   */
  execute<T>(fn: () => T | PromiseLike<T>, options?: ExecuteOptions<T>): Promise<T> {
    const ctx = readContext(options, 'CircuitBreaker.execute', EXECUTE_KEYS);
    // The caller gave up before asking: the work is not started (#admit would throw it).
    if (ctx.signal?.aborted && !this.closed) return Promise.reject(abortError(this.name, ctx.signal));
    const a = this.#admit(ctx);
    if (!a.ok) return Promise.reject(rejectionError(a));
    let result: T | PromiseLike<T>;
    try {
      result = fn();
    } catch (err) {
      a.release(this.#errorOutcome(err, options));
      return Promise.reject(err as Error);
    }
    // One `.then` rather than an async function: a reaction job fewer per call.
    if (!isThenable(result)) {
      a.release(this.#valueOutcome(result, options));
      return Promise.resolve(result);
    }
    return Promise.resolve(result).then(
      (value) => {
        a.release(this.#valueOutcome(value, options));
        return value;
      },
      (err: unknown) => {
        a.release(this.#errorOutcome(err, options));
        throw err;
      },
    );
  }

  #valueOutcome<T>(value: T, options: ExecuteOptions<T> | undefined): Outcome {
    const classify = options?.classify ?? this.#c.classify;
    return classify === undefined ? 'success' : safely(classify, value);
  }

  #errorOutcome<T>(err: unknown, options: ExecuteOptions<T> | undefined): Outcome {
    const classify = options?.classifyError ?? this.#c.classifyError;
    return classify === undefined ? 'failure' : safely(classify, err);
  }

  override onRelease(permit: GatePermit, outcome: Outcome): void {
    this.#inFlight--;
    if (permit.tag === this.#period) {
      if (this.#state === 'closed') {
        if (outcome !== 'ignored') {
          const rule = this.#trip;
          let now = 0;
          let ms = 0;
          if (rule.timing !== 'none') {
            now = this.clock.now();
            if (rule.timing === 'duration') {
              ms = now - permit.grantedAt;
              this.#latency.add(ms, now);
            }
          }
          if (rule.record(this.#rule, outcome !== 'success', ms, now)) this.#open('rule', rule.timing === 'none' ? this.clock.now() : now);
        }
      } else if (this.#state === 'half-open') {
        this.#probesOut--;
        if (outcome !== 'ignored') {
          const now = this.clock.now();
          const ms = now - permit.grantedAt;
          this.#latency.add(ms, now);
          this.#probe(outcome === 'success' && ms < this.#c.rule.slowCallMs, now);
        }
      }
    }
    super.onRelease(permit, outcome);
  }

  /** Open now, as if the rule had tripped (the open time backs off as usual). */
  trip(): void {
    this.#open('operator', this.clock.now());
  }

  /**
   * End an open breaker's open time now: it goes half-open and its next admissions are the
   * probes, as when the open time runs out (the dependency is known to be back: a client's
   * reconnect, a passing health check). The open-time backoff is kept, so a failed probe opens
   * for longer. Any other state is left as it is: a half-open breaker keeps its probes out,
   * and an operator's `isolate()` or `disable()` holds until `reset()`.
   */
  halfOpen(): void {
    const now = this.clock.now();
    this.#tick(now);
    if (this.#state === 'open') this.#transition('half-open', 'operator', now);
  }

  /** Hold open until `reset()`: every caller is refused with `retryAfterMs` = Infinity. */
  isolate(): void {
    this.#transition('forced-open', 'operator', this.clock.now());
  }

  /** Admit everything and record nothing until `reset()`. */
  disable(): void {
    this.#transition('disabled', 'operator', this.clock.now());
  }

  /** Back to a fresh 'closed': empty rule state, open-time backoff reset. */
  reset(): void {
    this.#close('operator', this.clock.now());
  }

  /** Subscribe to state changes; returns the unsubscribe function. */
  onStateChange(listener: StateChangeListener): () => void {
    this.#listeners = [...this.#listeners, listener];
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  /** The state as plain data (JSON-safe); see {@link BreakerSnapshot}. */
  exportState(): BreakerSnapshot {
    const now = this.clock.now();
    this.#tick(now);
    return {
      version: 1,
      takenAt: now,
      state: this.#state,
      openUntil: this.#state === 'open' ? this.#openUntil : 0,
      opens: this.#opens,
      probeSuccesses: this.#state === 'half-open' ? this.#probeOk : 0,
      probeFailures: this.#state === 'half-open' ? this.#probeFailed : 0,
      latencyMs: this.#latency.value,
      rule: structuredClone(this.#rule),
    };
  }

  /**
   * Take over an exported state (validated; a malformed one throws InvalidArgumentError and
   * changes nothing). Times are kept as they are, which is right on the same clock or on
   * clocks with a shared epoch (e.g. `Date.now`). `rebase: true` moves them by
   * `now − takenAt`, for a clock with another origin (another process's `performance.now()`):
   * the state is then read as if it had been exported just now. Permits granted before the
   * restore are no longer recorded; probes in flight elsewhere are not carried over.
   */
  restoreState(snapshot: BreakerSnapshot, options: { readonly rebase?: boolean } = {}): void {
    optKnownKeys('CircuitBreaker.restoreState', options, RESTORE_KEYS);
    const s = readSnapshot(snapshot);
    const now = this.clock.now();
    const delta = options.rebase === true ? now - s.takenAt : 0;
    const rule = this.#c.rule.restore(s.rule, delta, 'snapshot.rule');
    if (s.state === 'half-open' && s.probeSuccesses + s.probeFailures >= this.#c.probes) {
      throw new InvalidArgumentError('snapshot.probeSuccesses', `probeSuccesses + probeFailures < probes (${this.#c.probes})`, s.probeSuccesses);
    }
    this.#rule = rule;
    this.#latency.restore(s.latencyMs);
    this.#opens = s.opens;
    this.#openUntil = s.state === 'open' ? s.openUntil + delta : 0;
    this.#probesOut = 0;
    this.#probeOk = s.state === 'half-open' ? s.probeSuccesses : 0;
    this.#probeFailed = s.state === 'half-open' ? s.probeFailures : 0;
    this.#transition(s.state, 'restore', now);
  }

  stats(): BreakerStats {
    const now = this.clock.now();
    this.#tick(now);
    const state = this.#state;
    return {
      ...this.baseStats(),
      inFlight: this.#inFlight,
      queued: 0,
      limit: state === 'closed' || state === 'disabled' ? Infinity : state === 'half-open' ? this.#c.probes : 0,
      tokens: undefined,
      state,
      retryAfterMs: state === 'open' ? this.#openUntil - now : state === 'forced-open' ? Infinity : 0,
      opens: this.#opens,
      window: this.#c.rule.tally(this.#rule, now),
      probes: { inFlight: this.#probesOut, succeeded: this.#probeOk, failed: this.#probeFailed },
    };
  }

  /** Stop admitting (every later call is refused 'closed'). Permits in flight stay valid. */
  close(): void {
    this.closed = true;
  }

  #admitProbe(ctx: AdmissionContext, now: number): Admission {
    if (this.#probesOut + this.#probeOk + this.#probeFailed < this.#c.probes) {
      this.#probesOut++;
      this.#inFlight++;
      return this.grant(ctx, 1, 0, undefined, this.#period, now);
    }
    // The probes should be back in about one call latency.
    return this.reject('circuit_open', Math.max(1, Math.ceil(this.#latency.value)), undefined, ctx);
  }

  /**
   * Lazy open → half-open. An open time never ends later than one open duration from now: a
   * clock set back (a user's `Date.now`) would otherwise add the jump to it.
   */
  #tick(now: number): void {
    if (this.#state !== 'open') return;
    const latest = now + openDuration(this.#opens, this.#c.openMs, this.#c.openBackoff, this.#c.maxOpenMs);
    if (this.#openUntil > latest) this.#openUntil = latest;
    if (now >= this.#openUntil) this.#transition('half-open', 'timer', now);
  }

  #probe(ok: boolean, now: number): void {
    if (ok) this.#probeOk++;
    else this.#probeFailed++;
    if (this.#probeOk >= this.#c.probeSuccesses) this.#close('probe', now);
    else if (this.#probeFailed > this.#c.probes - this.#c.probeSuccesses) this.#open('probe', now);
  }

  #open(cause: StateChangeCause, now: number): void {
    this.#opens++;
    this.#openUntil = now + openDuration(this.#opens, this.#c.openMs, this.#c.openBackoff, this.#c.maxOpenMs);
    this.#transition('open', cause, now);
  }

  #close(cause: StateChangeCause, now: number): void {
    this.#opens = 0;
    this.#rule = this.#c.rule.initial(now);
    this.#transition('closed', cause, now);
  }

  #transition(to: BreakerState, cause: StateChangeCause, now: number): void {
    const from = this.#state;
    this.#state = to;
    this.#period++;
    // A new half-open period starts with no probes; a restore set its own counts.
    if (cause !== 'restore') {
      this.#probesOut = 0;
      this.#probeOk = 0;
      this.#probeFailed = 0;
    }
    // Re-opening an open breaker (trip(), restore) moves openUntil: listeners hear of it.
    if (from === to && to !== 'open') return;
    if (this.#listeners.length === 0 && !breakerStateChannel.hasSubscribers) return;
    const change: BreakerStateChange = { breaker: this.name, kind: this.kind, from, to, cause, at: now, openUntil: to === 'open' ? this.#openUntil : undefined };
    if (breakerStateChannel.hasSubscribers) breakerStateChannel.publish(change);
    for (const l of this.#listeners) tellListener(l, change, 'a breaker state listener');
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** A classifier that throws must not leak the permit: the call counts as a failure. */
function safely<V>(classify: (v: V) => Outcome, v: V): Outcome {
  try {
    return classify(v);
  } catch {
    return 'failure';
  }
}
