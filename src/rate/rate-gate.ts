/**
 * The enforcer every rate gate shares: it turns a metering decision into a permit, a
 * rejection, or a wait. The algorithm decides; this class only keeps promises.
 *
 * Waiting: when the units will be there within the caller's budget (the gate's
 * `maxWaitMs`, shortened by the context's `maxWaitMs` / `deadline`), the store reserves
 * them at once and the caller is granted when they are due, on the gate's clock. An abort
 * removes the waiter at once, clears its timer and refunds the reservation; close does
 * the same and answers `closed`. Nothing is granted late and no timer outlives its waiter.
 * Waiters sharing an AbortSignal hang off one listener (core/signal-waiters.ts): n waiters
 * on one signal cost O(n), not O(n²) in EventTarget's listener scans.
 *
 * Refunds keep the limit exact. A key's reservations form a chain in grant order (each
 * was computed on top of the ones before it). Refunding a reservation that has later
 * ones on top would leave those later waiters due after the time the state now implies,
 * and a newcomer could then be granted together with them, beyond the burst. So only the
 * newest reservation of a key is refunded; an aborted one in the middle hands its units
 * to its successor, and they are refunded when the successor's are (it aborts as the
 * newest, or the gate closes), or stay spent if it is granted: the limit errs strict.
 *
 * Timers keep the promise as the caller's clock sees it:
 * - a waiter is never granted before its reserved time by `clock.now()`: a timer that fires
 *   early (Node's do, by up to the clock's `timerSlackMs`) is set again for the rest;
 * - a key's waiters are granted in reservation order, and their grants are metered again
 *   as they happen (GCRA on grant times, with the policy's rate and burst from the
 *   decision's facts, `limit` units per `windowMs`): after a loop stall, timers that all
 *   come due at once grant at most a burst at that instant and the rest at the policy's
 *   pace, not everything overdue together. The meter tolerates `timerSlackMs` of jitter,
 *   so ordinary timer lateness does not add up into lost throughput;
 * - a refusal's `retryAfterMs` includes `timerSlackMs` (rounded up to whole ms on such a
 *   clock), so a caller who sleeps it with the platform's timer and asks again succeeds.
 */
import type { TimerHandle } from '../core/clock.js';
import { InvalidArgumentError } from '../core/errors.js';
import { abortError, GateBase, isPromise, readContext, waitDeadline, type GateOptions, type GatePermit } from '../core/gate-base.js';
import { optBoolean, optNumber } from '../core/options.js';
import { SignalRegistry, type SignalMember, type SignalWaiters } from '../core/signal-waiters.js';
import type { Admission, AdmissionContext, GateStats, PolicyFacts } from '../core/types.js';
import type { RateDecision } from './algorithm.js';
import type { RateThen } from './store.js';
import { deepFreeze } from '../core/deep-freeze.js';

export interface RateGateOptions extends GateOptions {
  /**
   * Longest a caller may wait for its units, ms. Within it the units are reserved at once
   * and granted when due; beyond it the caller is refused at once with the exact
   * `retryAfterMs`. A context's `maxWaitMs` or `deadline` can only shorten it.
   * >= 0, Infinity allowed. @default 0 (never wait)
   */
  readonly maxWaitMs?: number;
  /**
   * Refusals for spent units are `quota` (a daily allowance, say) rather than `rate_limited`:
   * in the rejection, the gate's stats and its events alike. Both are 429 over HTTP.
   * @default false
   */
  readonly quota?: boolean;
}

export const RATE_GATE_DEFAULTS = deepFreeze({ maxWaitMs: 0 } as const);

const NO_WAIT: AdmissionContext = Object.freeze({ maxWaitMs: 0 });

interface Waiter extends SignalMember<Waiter> {
  readonly ctx: AdmissionContext;
  readonly key: string;
  readonly cost: number;
  readonly resolve: (answer: Admission) => void;
  readonly fail: (err: Error) => void;
  timer: TimerHandle | undefined;
  /** When it asked, and the decision that reserved its units. */
  readonly start: number;
  readonly decision: RateDecision;
  /** When its units are due, on the gate's clock. */
  readonly dueAt: number;
  /** The policy's ms per unit and burst (from the decision's facts), for the grant-side meter. */
  readonly perUnit: number;
  readonly burst: number;
  /** Grant-side meter (theoretical arrival time) of the key's chain; meaningful on its oldest waiter. */
  meterTat: number;
  /** Came due while an older reservation of its key was still waiting: the older one's grant wakes it. */
  parked: boolean;
  /** Older and newer pending reservations of the same key. */
  prev: Waiter | undefined;
  next: Waiter | undefined;
  /** Units of aborted older reservations, refundable only together with this one. */
  carry: number;
  linked: boolean;
}

/** A caller whose decision an async store has not answered yet; on its signal's list meanwhile. */
class Pending implements SignalMember<Pending> {
  aborted = false;
  group: SignalWaiters<Pending> | undefined = undefined;
  prevOfSignal: Pending | undefined = undefined;
  nextOfSignal: Pending | undefined = undefined;
  constructor(readonly fail: (err: Error) => void) {}
}

export abstract class RateGate extends GateBase {
  readonly maxWaitMs: number;
  /** The reason of a refusal for spent units: `rate_limited`, or `quota` (the `quota` option). */
  readonly #limited: 'rate_limited' | 'quota';
  /** Newest pending reservation per key; older ones hang off `prev`. */
  readonly #newest = new Map<string, Waiter>();
  #queued = 0;
  /** One abort listener per distinct signal, whatever the number of waiters on it (waiting, or awaiting the store). */
  readonly #signals = new SignalRegistry<Waiter>((ws, signal) => this.#aborted(ws, signal));
  readonly #pendingSignals = new SignalRegistry<Pending>((ps, signal) => {
    for (const p of ps) {
      p.aborted = true;
      p.fail(abortError(this.name, signal));
    }
  });

  constructor(options: RateGateOptions, defaultName: string) {
    super(options, defaultName);
    this.maxWaitMs = optNumber('maxWaitMs', options.maxWaitMs ?? RATE_GATE_DEFAULTS.maxWaitMs, 0);
    this.#limited = optBoolean('quota', options.quota, false) ? 'quota' : 'rate_limited';
  }

  /** Meter `cost` units for `key`; see {@link RateStore.consume}. */
  protected abstract consume(key: string, cost: number, now: number, maxDelayMs: number): RateDecision | Promise<RateDecision>;
  /** Give back a cancelled reservation. */
  protected abstract refund(key: string, cost: number, now: number): void | Promise<void>;
  /**
   * For a gate whose store has {@link RateStore.consumeThen} (and sets {@link storeThen}):
   * {@link consume}, the store applying `then` to the decision in its own promise.
   */
  protected consumeThen(_key: string, _cost: number, _now: number, _maxDelayMs: number, _then: RateThen<AdmissionContext, Admission>, _ctx: AdmissionContext): Promise<Admission> {
    throw new Error(`${this.name}: consumeThen called on a gate whose store has none (a bug in sluice)`);
  }
  /** Whether {@link consumeThen} is there: decisions for callers without a signal go through it. */
  protected storeThen = false;
  /** #arrived as consumeThen calls it: made once, not a closure per decision. */
  readonly #arrivedThen: RateThen<AdmissionContext, Admission> = (d, ctx, key, cost, start) => this.#arrived(ctx, key, cost, start, d);

  /** The key a context is metered under. Throws InvalidArgumentError when it has none and needs one. */
  protected keyOf(_ctx: AdmissionContext): string {
    return '';
  }

  /** Callers waiting for reserved units. */
  get queued(): number {
    return this.#queued;
  }

  admit(ctx?: AdmissionContext): Admission | Promise<Admission> {
    const c = readContext(ctx, this);
    const key = this.keyOf(c);
    if (this.closed) return this.reject('closed', Infinity, undefined, c);
    const signal = c.signal;
    if (signal !== undefined && signal.aborted) return Promise.reject(abortError(this.name, signal));
    const cost = c.cost ?? 1;
    const now = this.clock.now();
    let maxDelay = this.maxWaitMs;
    if (c.deadline !== undefined || c.maxWaitMs !== undefined) {
      maxDelay = waitDeadline(c, now, this.maxWaitMs) - now;
      if (!(maxDelay > 0)) maxDelay = 0;
    }
    // No signal: nothing can answer the caller before the store does (see #later).
    if (this.storeThen && signal === undefined) return this.consumeThen(key, cost, now, maxDelay, this.#arrivedThen, c);
    const d = this.consume(key, cost, now, maxDelay);
    if (isPromise(d)) return this.#later(c, key, cost, now, d);
    return this.#settle(c, key, cost, now, d, now);
  }

  /**
   * The value API for a caller that does not wait: the answer now, never a promise — a permit,
   * or a refusal with the exact `retryAfterMs`. (`admit()` returns a promise when the gate's
   * or the context's `maxWaitMs` lets the caller wait.) Throws AbortedError at once for an
   * aborted signal, InvalidArgumentError for a bad context.
   */
  tryAdmit(ctx?: AdmissionContext): Admission {
    if (ctx?.signal?.aborted === true) throw abortError(this.name, ctx.signal);
    if (!this.answersNow()) throw new InvalidArgumentError('tryAdmit', `a gate whose store answers synchronously (${this.name}'s does not: use admit())`, 'a remote store');
    const answer = this.admit(ctx === undefined ? NO_WAIT : { ...ctx, maxWaitMs: 0 });
    // With no wait and a synchronous store, admit() answers synchronously (its promises are waits).
    if (isPromise(answer)) throw new Error(`${this.name}: tryAdmit got a promise from a synchronous path`);
    return answer;
  }

  /** Whether a decision with no wait is synchronous (false for a store that answers with promises). */
  protected answersNow(): boolean {
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const chains = [...this.#newest];
    this.#newest.clear();
    this.#queued = 0;
    for (const [key, newest] of chains) {
      // Every reservation of the key goes: together they are refundable (nothing is on top).
      const waiters: Waiter[] = [];
      let units = 0;
      for (let w: Waiter | undefined = newest; w !== undefined; w = w.prev) {
        waiters.push(w);
        units += w.cost + w.carry;
        w.linked = false;
        if (w.timer !== undefined) this.clock.clearTimer(w.timer);
        if (w.group !== undefined) this.#signals.leave(w);
      }
      this.#refund(key, units);
      for (let i = waiters.length - 1; i >= 0; i--) waiters[i]!.resolve(this.reject('closed', Infinity, undefined, waiters[i]!.ctx));
    }
  }

  protected rateStats(limit: number, tokens: number | undefined): GateStats {
    return { ...this.baseStats(), inFlight: 0, queued: this.#queued, limit, tokens };
  }

  /** `now`: the clock when `d` arrived (later than `start` after an async store's round trip). */
  #settle(ctx: AdmissionContext, key: string, cost: number, start: number, d: RateDecision, now: number): Admission | Promise<Admission> {
    if (!d.allowed) return this.reject(d.full === true ? 'keys_full' : d.unavailable === true ? 'store_unavailable' : this.#limited, this.#retryAfter(d.retryAfterMs), d.facts, ctx);
    if (d.delayMs <= 0) return this.grant(ctx, cost, now - start, d.facts, key, now);
    const left = d.delayMs - (now - start);
    if (left > 0) return this.#wait(ctx, key, cost, start, d, left);
    return this.grant(ctx, cost, now - start, dueFacts(d), key, now);
  }

  #wait(ctx: AdmissionContext, key: string, cost: number, start: number, d: RateDecision, delayMs: number): Promise<Admission> {
    return new Promise<Admission>((resolve, fail) => {
      const signal = ctx.signal;
      const f = d.facts;
      const w: Waiter = {
        ctx,
        key,
        cost,
        resolve,
        fail,
        timer: undefined,
        start,
        decision: d,
        dueAt: start + d.delayMs,
        perUnit: f.limit > 0 ? f.windowMs / f.limit : 0,
        burst: f.limit,
        meterTat: -Infinity,
        parked: false,
        prev: undefined,
        next: undefined,
        carry: 0,
        linked: true,
        group: undefined,
        prevOfSignal: undefined,
        nextOfSignal: undefined,
      };
      if (signal !== undefined) this.#signals.join(w, signal);
      w.timer = this.clock.setTimer(() => this.#due(w), delayMs);
      const newest = this.#newest.get(key);
      if (newest !== undefined) {
        newest.next = w;
        w.prev = newest;
      }
      this.#newest.set(key, w);
      this.#queued++;
    });
  }

  /** A waiter's timer fired, or the older reservation it waited behind was granted: grant it now if its time has come by the clock. */
  #due(w: Waiter): void {
    w.timer = undefined;
    if (!w.linked) return;
    w.parked = w.prev !== undefined; // an older reservation of the key goes first; its grant wakes this one
    if (w.parked) return;
    const now = this.clock.now();
    let at = w.dueAt;
    const metered = w.meterTat - (w.burst - w.cost) * w.perUnit - (this.clock.timerSlackMs ?? 0);
    if (metered > at) at = metered;
    if (now < at) {
      // Early (a timer that fires before the clock says it is time), or over the grant-side meter: the rest later.
      w.timer = this.clock.setTimer(() => this.#due(w), at - now);
      return;
    }
    const next = w.next;
    this.#unlink(w); // its carried units (if any) stay spent: it got its grant on top of them
    if (w.group !== undefined) this.#signals.leave(w);
    try {
      w.resolve(this.grant(w.ctx, w.cost, now - w.start, dueFacts(w.decision), w.key, now));
    } catch (err) {
      w.fail(err as Error); // its context threw as the admit event read it: it hears why (its units stay spent), those behind go on
    }
    if (next !== undefined) this.#handOn(next, (w.meterTat > now ? w.meterTat : now) + w.cost * w.perUnit);
  }

  /** `next` is now its key's oldest waiter: it carries the chain's meter, and goes if it was only waiting its turn. */
  #handOn(next: Waiter, meterTat: number): void {
    next.meterTat = meterTat;
    if (next.parked && next.linked) this.#due(next);
  }

  /**
   * A signal fired: its waiters (arrival order, already off its list) leave as each one's own
   * listener made it: timer cleared, units refunded if newest, else carried to the successor.
   */
  #aborted(ws: Waiter[], signal: AbortSignal): void {
    for (const w of ws) {
      if (!w.linked) continue;
      if (w.timer !== undefined) this.clock.clearTimer(w.timer);
      const next = w.next;
      const oldest = w.prev === undefined;
      if (next === undefined) this.#refund(w.key, w.cost + w.carry);
      else next.carry += w.cost + w.carry;
      this.#unlink(w);
      w.fail(abortError(this.name, signal));
      if (oldest && next !== undefined) this.#handOn(next, w.meterTat);
    }
  }

  #unlink(w: Waiter): void {
    w.linked = false;
    this.#queued--;
    if (w.prev !== undefined) w.prev.next = w.next;
    if (w.next !== undefined) w.next.prev = w.prev;
    else if (w.prev !== undefined) this.#newest.set(w.key, w.prev);
    else this.#newest.delete(w.key);
    w.prev = w.next = undefined;
  }

  /** An async store's answer: the caller may have aborted, or the gate closed, meanwhile. */
  #later(ctx: AdmissionContext, key: string, cost: number, start: number, pending: Promise<RateDecision>): Promise<Admission> {
    // Without a signal nothing can answer the caller before the store does: the store's promise,
    // mapped, is the answer. (No outer promise, resolvers, Pending and second handler per
    // decision: at tens of thousands of decisions a second they are garbage the young
    // generation collects in pauses that every decision in flight waits out.)
    if (ctx.signal === undefined) return pending.then((d) => this.#arrived(ctx, key, cost, start, d));
    return new Promise<Admission>((resolve, fail) => {
      const signal = ctx.signal;
      const p = new Pending(fail);
      if (signal !== undefined) this.#pendingSignals.join(p, signal);
      void pending.then(
        (d) => {
          if (p.group !== undefined) this.#pendingSignals.leave(p);
          const aborted = p.aborted;
          if (aborted || this.closed) {
            // Best effort: other callers' reservations may already sit on top of this one in the store.
            if (d.allowed) this.#refund(key, cost);
            if (!aborted) resolve(this.reject('closed', Infinity, undefined, ctx));
            return;
          }
          try {
            resolve(this.#settle(ctx, key, cost, start, d, this.clock.now()));
          } catch (err) {
            fail(err as Error);
          }
        },
        (err: unknown) => {
          if (p.group !== undefined) this.#pendingSignals.leave(p);
          if (!p.aborted) fail(err as Error);
        },
      );
    });
  }

  /** The store's answer `d` to a caller with no signal (#later, consumeThen). */
  #arrived(ctx: AdmissionContext, key: string, cost: number, start: number, d: RateDecision): Admission | Promise<Admission> {
    if (this.closed) {
      // Best effort, as #later's: other callers' reservations may already sit on top of this one.
      if (d.allowed) this.#refund(key, cost);
      return this.reject('closed', Infinity, undefined, ctx);
    }
    return this.#settle(ctx, key, cost, start, d, this.clock.now());
  }

  /** A refusal's Retry-After as a caller sleeping on the platform's timers needs it (see the module comment). */
  #retryAfter(ms: number): number {
    const slack = this.clock.timerSlackMs ?? 0;
    return slack > 0 && ms > 0 && ms !== Infinity ? Math.ceil(ms) + slack : ms;
  }

  /**
   * A later gate refused the request this permit was granted for: its units go back (true) — unless
   * a reservation of the key waits on top of it (see the module comment), then they stay spent.
   */
  override onCancel(permit: GatePermit): boolean {
    const back = permit.owner === this && permit.cost > 0 && typeof permit.tag === 'string' && !this.#newest.has(permit.tag);
    if (back) this.#refund(permit.tag, permit.cost);
    return back;
  }

  #refund(key: string, cost: number): void {
    try {
      const r = this.refund(key, cost, this.clock.now());
      if (isPromise(r)) void r.then(undefined, refundFailed);
    } catch (err) {
      refundFailed(err);
    }
  }
}

/** Facts at the moment a reservation is granted: the reset horizon has moved closer by the wait. */
function dueFacts(d: RateDecision): PolicyFacts {
  const resetMs = d.facts.resetMs - d.delayMs;
  return { ...d.facts, resetMs: resetMs > 0 ? resetMs : 0 };
}

function refundFailed(err: unknown): void {
  // A lost refund only makes the limit stricter for a while; report it, never throw into a caller.
  process.emitWarning(`sluice: a rate store failed to refund a cancelled reservation: ${String(err)}`, { code: 'SLUICE_REFUND_ERROR' });
}
