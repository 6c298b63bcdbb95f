/**
 * What every gate shares: counters, events, context reading, the awaiting `acquire()` built
 * on the value API `admit()`, and the permit object.
 */
import type { Clock } from './clock.js';
import { AbortedError, checkRejection, ClosedError, InvalidArgumentError, RejectedError } from './errors.js';
import { EventHub } from './events.js';
import type { GateListener } from './events.js';
import { callKnownKeys, onlyKnownKeys, optionKeys } from './option-keys.js';
import type { OptionKeyMap } from './option-keys.js';
import { argNumber, optClock, optName } from './options.js';
import { REJECTION_REASONS } from './types.js';
import { WaitSignal } from './wait-signal.js';
import type { Admission, AdmissionContext, Gate, GateStats, Outcome, Permit, PolicyFacts, Rejection, RejectionReason } from './types.js';

export interface GateOptions {
  /** Name in stats, events and errors. */
  readonly name?: string;
  /** @default systemClock */
  readonly clock?: Clock;
}

const EMPTY: AdmissionContext = Object.freeze({});

/**
 * Marks a context (`{ [ADMITTED_AGAIN]: true }`) as a request's second grant: it was admitted,
 * its permit set aside ({@link GatePermit.setAside}) while it waited on something that is not
 * this gate's work (the gateway reads an Expect: 100-continue body after the 100), and it asks
 * for its place again. Granted, it is neither counted nor told as an admission — the request was,
 * at its first grant — and its permit's release is the request's one release. Refused, it is a
 * refusal like any other.
 */
export const ADMITTED_AGAIN: unique symbol = Symbol('sluice.admittedAgain');

/** Whether `ctx` asks for a request's second grant ({@link ADMITTED_AGAIN}). */
export const admittedAgain = (ctx: AdmissionContext): boolean => (ctx as { [ADMITTED_AGAIN]?: boolean })[ADMITTED_AGAIN] === true;

/** The gate that counted the admission of a second grant asked of it and passed on to another (its successor after a reload). */
const COUNTED_AT: unique symbol = Symbol('sluice.countedAt');

/**
 * `ctx`, to pass on from `gate` to the gate that took its place: a second grant made there is
 * still `gate`'s admission (the first gate that counted it, over several reloads), so its release
 * is counted by `gate` too — counted by the one that grants it, that gate showed a release for
 * no admission (released above admitted in /status after a reload, status22), and `gate` an
 * admission never released. Any other context passes on as it is.
 */
export function passedOn(ctx: AdmissionContext | undefined, gate: GateBase): AdmissionContext | undefined {
  if (ctx === undefined || !admittedAgain(ctx) || (ctx as { [COUNTED_AT]?: GateBase })[COUNTED_AT] !== undefined) return ctx;
  return { ...ctx, [COUNTED_AT]: gate } as AdmissionContext;
}

/** A granted permit. `release` is idempotent; the owner sees exactly one release. */
/** An owner's `rttMs` at release that is no measure (NaN, ±Infinity, not a number): released with no sample, then {@link rttError}. */
export function badRtt(rttMs: unknown): boolean {
  return rttMs !== undefined && !(typeof rttMs === 'number' && Number.isFinite(rttMs));
}

export function rttError(rttMs: unknown): InvalidArgumentError {
  return new InvalidArgumentError('rttMs', 'a finite number of ms (<= 0: no sample)', rttMs);
}

export class GatePermit implements Permit {
  readonly ok = true as const;
  released = false;
  /** Set aside (setAside): its capacity went back, its release not counted yet. */
  aside = false;
  /** The gate whose admission this permit's release balances, when not its owner (passedOn). */
  countedAt: GateBase | undefined;
  /** The dependency's own time for this work, from its owner at release (Permit.release), ms; undefined: grant to release. */
  rttMs: number | undefined = undefined;
  constructor(
    readonly owner: GateBase,
    readonly gate: string,
    readonly cost: number,
    readonly grantedAt: number,
    readonly facts: PolicyFacts | undefined,
    /** Owner-private data (a partition, a key). */
    readonly tag: unknown,
    /** A slot the gate's owner holds (a lease's ballast, ConcurrencyGate.hold): no admission, so neither counted nor told at grant or release. */
    readonly held = false,
  ) {}

  release(outcome: Outcome = 'success', rttMs?: number): void {
    if (this.released) return;
    this.released = true;
    // A bad measure is no sample, and the permit still goes back before the caller hears of it.
    const bad = badRtt(rttMs);
    this.rttMs = bad ? 0 : rttMs;
    this.owner.onRelease(this, outcome);
    if (bad) throw rttError(rttMs);
  }

  /**
   * Give the permit back because a later gate of its chain refused the request (or threw): a
   * release 'ignored', and what the grant spent is given back where its gate can — a rate
   * gate's units, so a request refused by the concurrency limit spends no rate or quota. True
   * when they were (its `facts` then count them spent: gate-chain.ts cancelAll).
   */
  cancel(): boolean {
    if (this.released) return false;
    this.release('ignored');
    return this.owner.onCancel(this);
  }

  /**
   * Give the capacity back (as a release 'ignored': no sample) without counting or telling a
   * release: the request goes on, and asks for its place again with {@link ADMITTED_AGAIN}.
   * If it never gets it (refused, or it left), {@link settleAside} counts this release then.
   */
  setAside(): void {
    if (this.released) return;
    this.aside = true;
    this.release('ignored');
  }

  /** Count and tell the release of a permit set aside whose request did not come back for it ('ignored'); once. */
  settleAside(): void {
    if (!this.aside) return;
    this.aside = false;
    this.owner.countRelease(this, 'ignored');
  }
}

export abstract class GateBase implements Gate {
  readonly name: string;
  readonly clock: Clock;
  abstract readonly kind: string;
  protected readonly events = new EventHub();
  protected admittedCount = 0;
  protected releasedCount = 0;
  protected droppedCount = 0;
  protected closed = false;
  protected readonly rejectedCounts: Record<RejectionReason, number>;

  constructor(options: GateOptions, defaultName: string) {
    // A JavaScript caller may pass nothing, null or a number: say so, not "cannot read properties of undefined".
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidArgumentError('options', `an object of ${new.target.name} options`, options);
    this.name = optName(options.name, defaultName);
    this.clock = optClock(options.clock);
    const counts = {} as Record<RejectionReason, number>;
    for (const r of REJECTION_REASONS) counts[r] = 0;
    this.rejectedCounts = counts;
  }

  abstract admit(ctx?: AdmissionContext): Admission | Promise<Admission>;
  abstract stats(): GateStats;
  abstract close(): void;

  /** Called once per permit by {@link GatePermit.release}. Subclasses return capacity, then call super. */
  onRelease(permit: GatePermit, outcome: Outcome): void {
    if (permit.held || permit.aside) return;
    (permit.countedAt ?? this).countRelease(permit, outcome);
  }

  /** Called by {@link GatePermit.cancel} after the release: give back what the grant spent (rate gates); true when it did. */
  onCancel(_permit: GatePermit): boolean {
    return false;
  }

  /** Count and tell a permit's release (onRelease; a permit set aside, later: GatePermit.settleAside). */
  countRelease(permit: GatePermit, outcome: Outcome): void {
    this.releasedCount++;
    if (this.events.wants('release')) {
      const at = this.clock.now();
      this.events.emit({ type: 'release', gate: this.name, kind: this.kind, at, outcome, latencyMs: at - permit.grantedAt });
    }
  }

  acquire(ctx?: AdmissionContext): Promise<Permit> {
    let answer: Admission | Promise<Admission>;
    try {
      answer = this.admit(ctx);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (isPromise(answer)) return answer.then(permitOrThrow);
    return answer.ok ? Promise.resolve(answer) : Promise.reject(rejectionError(answer));
  }

  /** Subscribe to this gate's admission events; returns the unsubscribe function. */
  on(listener: GateListener): () => void {
    return this.events.on(listener);
  }

  protected baseStats(): Pick<GateStats, 'name' | 'kind' | 'admitted' | 'released' | 'rejected' | 'dropped' | 'closed'> {
    return {
      name: this.name,
      kind: this.kind,
      admitted: this.admittedCount,
      released: this.releasedCount,
      rejected: { ...this.rejectedCounts },
      dropped: this.droppedCount,
      closed: this.closed,
    };
  }

  /** Count, emit and return a rejection value. `detail`: a constant sentence (no allocation per refusal). */
  protected reject(reason: RejectionReason, retryAfterMs: number, facts: PolicyFacts | undefined, ctx: AdmissionContext, detail?: string): Rejection {
    this.rejectedCounts[reason]++;
    const retry = retryAfterMs < 0 ? 0 : retryAfterMs;
    if (this.events.wants('reject')) {
      this.events.emit({ type: 'reject', gate: this.name, kind: this.kind, at: this.clock.now(), key: ctx.key, reason, retryAfterMs: retry });
    }
    return { ok: false, gate: this.name, reason, retryAfterMs: retry, facts, detail };
  }

  /** Count, emit and return a permit. `now`: the caller's clock reading, if it just took one (saves a second read). */
  protected grant(ctx: AdmissionContext, cost: number, waitedMs: number, facts: PolicyFacts | undefined, tag: unknown, now: number = this.clock.now()): GatePermit {
    if (admittedAgain(ctx)) {
      const again = new GatePermit(this, this.name, cost, now, facts, tag);
      again.countedAt = (ctx as { [COUNTED_AT]?: GateBase })[COUNTED_AT];
      return again;
    }
    if (this.events.wants('admit')) {
      // The caller's context is read before the admission is counted: a getter that throws admits nothing.
      const key = ctx.key;
      const priority = ctx.priority ?? 0;
      this.admittedCount++;
      this.events.emit({ type: 'admit', gate: this.name, kind: this.kind, at: now, key, priority, cost, waitedMs });
    } else this.admittedCount++;
    return new GatePermit(this, this.name, cost, now, facts, tag);
  }

  /** Report items or waiters removed by policy after acceptance. */
  protected dropped(policy: string, count: number): void {
    this.droppedCount += count;
    if (this.events.wants('drop')) {
      this.events.emit({ type: 'drop', gate: this.name, kind: this.kind, at: this.clock.now(), policy, count });
    }
  }
}

export function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

export function rejectionError(rejection: Rejection): Error {
  checkRejection(rejection, 'rejectionError()');
  return rejection.reason === 'closed' ? new ClosedError(rejection.gate) : new RejectedError(rejection);
}

function permitOrThrow(answer: Admission): Permit {
  if (answer.ok) return answer;
  throw rejectionError(answer);
}

/** The keys of an admission context: the per-call options of every gate's admit() and acquire(). */
export const CONTEXT_KEY_MAP: OptionKeyMap<AdmissionContext> = { key: true, priority: true, cost: true, deadline: true, maxWaitMs: true, partition: true, signal: true };
export const CONTEXT_KEYS = optionKeys(CONTEXT_KEY_MAP);

/**
 * Whether `key` is one of {@link CONTEXT_KEYS}: a switch, compares of interned strings, on
 * every admit — `CONTEXT_KEYS.includes` per key cost the keyed token bucket about a fifth of
 * its decisions (bench/results/call-keys-169ef90-busy.md). Held to the list below.
 */
export function isContextKey(key: string): boolean {
  switch (key) {
    case 'key':
    case 'priority':
    case 'cost':
    case 'deadline':
    case 'maxWaitMs':
    case 'partition':
    case 'signal':
      return true;
    default:
      return false;
  }
}
// The switch is written by hand: a key added to AdmissionContext (and so to the map) and not to it fails here, at load.
for (const key of CONTEXT_KEYS) if (!isContextKey(key)) throw new Error(`sluice: isContextKey() is missing ${JSON.stringify(key)}`);

/** {@link onlyKnownKeys} against {@link CONTEXT_KEYS}, by {@link isContextKey}. */
function onlyContextKeys(ctx: object): boolean {
  for (const key in ctx) if (!isContextKey(key)) return false;
  return true;
}

/** A context whose keys a caller has just walked (run(), via {@link admitChecked}): its gate's admit does not walk them again. */
let checked: object | undefined;

/**
 * `gate.admit(ctx)` for a caller that has checked `ctx`'s keys against {@link CONTEXT_KEYS}
 * itself (run() walks them once, with its own keys): readContext skips the walk for this
 * object during this synchronous call only; it still reads and validates the values.
 */
export function admitChecked(gate: Gate, ctx: AdmissionContext): Admission | Promise<Admission> {
  checked = ctx;
  try {
    return gate.admit(ctx);
  } finally {
    checked = undefined;
  }
}

/**
 * Read and validate a context. Throws InvalidArgumentError naming the field, and
 * InvalidOptionError for a key not in `known` (a misspelt `sginal` would leave the wait
 * unabortable, in silence), naming `call`: a string, or the gate asked (its class's
 * `acquire/admit`, named only when there is an error to tell).
 */
export function readContext(ctx: AdmissionContext | undefined, call: string | object = 'admission context', known: readonly string[] = CONTEXT_KEYS): AdmissionContext {
  if (ctx === undefined) return EMPTY;
  // A JavaScript caller may pass null, or a number meaning the cost (`acquire(3)`): say so,
  // rather than a TypeError or a silent cost of 1.
  if (typeof ctx !== 'object' || ctx === null || Array.isArray(ctx)) throw new InvalidArgumentError('context', 'an object ({ key, priority, cost, deadline, maxWaitMs, signal }) or undefined', ctx);
  if (known === CONTEXT_KEYS ? ctx !== checked && !onlyContextKeys(ctx) : !onlyKnownKeys(ctx, known)) {
    callKnownKeys(typeof call === 'string' ? call : `${call.constructor.name}.acquire/admit`, ctx, known);
  }
  if (ctx.cost !== undefined) argNumber('cost', ctx.cost, 1);
  if (ctx.priority !== undefined && (typeof ctx.priority !== 'number' || !Number.isFinite(ctx.priority))) {
    throw new InvalidArgumentError('priority', 'a finite number', ctx.priority);
  }
  if (ctx.deadline !== undefined && (typeof ctx.deadline !== 'number' || Number.isNaN(ctx.deadline))) throw new InvalidArgumentError('deadline', "a number (a time on the gate's clock)", ctx.deadline);
  if (ctx.maxWaitMs !== undefined) argNumber('maxWaitMs', ctx.maxWaitMs, 0);
  // A WaitSignal is sluice's own, cheaper stand-in (wait-signal.ts), for the waits it starts itself.
  if (ctx.signal !== undefined && !(ctx.signal instanceof AbortSignal) && !((ctx.signal as unknown) instanceof WaitSignal)) throw new InvalidArgumentError('signal', 'an AbortSignal', ctx.signal);
  return ctx;
}

/**
 * Absolute time by which a waiter must be served: the earliest of the context's deadline,
 * now + its maxWaitMs, and now + the gate's own maxWaitMs. Infinity: no limit.
 */
export function waitDeadline(ctx: AdmissionContext, now: number, gateMaxWaitMs: number): number {
  if (typeof ctx !== 'object' || ctx === null || typeof now !== 'number' || !Number.isFinite(now) || typeof gateMaxWaitMs !== 'number' || !(gateMaxWaitMs >= 0)) badWaitDeadline(ctx, now, gateMaxWaitMs);
  let d = now + gateMaxWaitMs;
  if (ctx.maxWaitMs !== undefined && now + ctx.maxWaitMs < d) d = now + ctx.maxWaitMs;
  if (ctx.deadline !== undefined && ctx.deadline < d) d = ctx.deadline;
  return d;
}

/** The caller's abort, as the error its promise rejects with. */
export function abortError(what: string, signal: AbortSignal): AbortedError {
  if (typeof what !== 'string' || what === '') throw new InvalidArgumentError('what', 'a non-empty string for abortError()', what);
  if (typeof signal !== 'object' || signal === null || typeof (signal as Partial<AbortSignal>).aborted !== 'boolean') throw new InvalidArgumentError('signal', 'an AbortSignal for abortError()', signal);
  return new AbortedError(what, signal.reason);
}

/** The cold path of waitDeadline(): which argument is wrong (a custom gate's bug). */
function badWaitDeadline(ctx: unknown, now: unknown, gateMaxWaitMs: unknown): never {
  if (typeof ctx !== 'object' || ctx === null) throw new InvalidArgumentError('ctx', 'an admission context (an object) for waitDeadline()', ctx);
  if (typeof now !== 'number' || !Number.isFinite(now)) throw new InvalidArgumentError('now', 'a finite number for waitDeadline()', now);
  throw new InvalidArgumentError('gateMaxWaitMs', 'a number >= 0 for waitDeadline()', gateMaxWaitMs);
}

