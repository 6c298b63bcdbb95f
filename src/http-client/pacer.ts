/**
 * A client-side gate that paces requests to one origin by what the origin's responses said,
 * so the client slows down *before* it is refused:
 *
 * - `RateLimit: "p";r=R;t=T` (or the older forms): R more requests may go before T seconds
 *   pass. The pacer counts its own grants against R (requests granted after the one whose
 *   response said R are subtracted), and when the count reaches 0 it holds further requests
 *   until T has elapsed; then, if the policy's quota `q` and window `w` are known, it starts
 *   a fresh window of q requests, otherwise it stops pacing until told again.
 * - `Retry-After` on a 429 / 503: nobody goes to the origin until it has passed (it takes
 *   precedence over `t`, as the draft says).
 *
 * Both holds are capped at `maxHoldMs` (draft §8.5.1: a client sets its own thresholds
 * against absurd values). A caller whose deadline (or `maxWaitMs`) ends before the hold does
 * is refused at once with `rate_limited` and the exact `retryAfterMs`; others wait, in
 * arrival order. Responses of older requests than the newest one heard are stale and only
 * their Retry-After is read. Without any quota information the pacer admits everything.
 */
import { abortError, GateBase, optionKeys, optKnownKeys, optNumber, readContext, waitDeadline } from '../core/index.js';
import type { Admission, AdmissionContext, GateOptions, GatePermit, GateStats, Permit, PolicyFacts, TimerHandle } from '../core/index.js';
import { SignalRegistry } from '../core/signal-waiters.js';
import type { SignalMember } from '../core/signal-waiters.js';
import type { ServerQuota } from './rate-limit-headers.js';
import { deepFreeze } from '../core/deep-freeze.js';

export interface PacerOptions extends GateOptions {
  /** Longest hold one response can impose (its `t`, `w` or Retry-After), ms; longer values are cut to it. > 0. @default 60_000 */
  readonly maxHoldMs?: number;
  /** Longest a caller waits for quota, ms; a context's deadline or maxWaitMs can shorten it. >= 0. @default Infinity */
  readonly maxWaitMs?: number;
}

export const PACER_DEFAULTS = deepFreeze({ maxHoldMs: 60_000, maxWaitMs: Infinity } as const);

export interface PacerStats extends GateStats {
  /** Requests the pacer will still let through before the reset (Infinity: not pacing). */
  readonly remaining: number;
  /** Ms until the quota is expected back; 0 when no reset is pending. */
  readonly resetMs: number;
  /** Ms left of a Retry-After hold; 0 when none. */
  readonly holdMs: number;
  /** The policy pacing the origin ('' for the older header forms or none). */
  readonly policy: string;
}

interface Waiter extends SignalMember<Waiter> {
  readonly ctx: AdmissionContext;
  readonly since: number;
  readonly resolve: (a: Admission) => void;
  readonly reject: (e: unknown) => void;
  timer: TimerHandle | undefined;
}

const PACER_KEYS = optionKeys<PacerOptions>({ name: true, clock: true, maxWaitMs: true, maxHoldMs: true });

export class Pacer extends GateBase {
  readonly kind: string = 'pacer';
  readonly maxHoldMs: number;
  readonly maxWaitMs: number;
  #remaining = Infinity;
  /** When the quota comes back (clock time); 0: no reset pending (then #remaining is Infinity). */
  #resetAt = 0;
  #holdUntil = 0;
  #limit: number | undefined;
  #windowMs: number | undefined;
  #policy = '';
  /** Grants so far; a permit's tag is its grant number. */
  #granted = 0;
  /** Grant number of the newest response heard. */
  #heard = 0;
  #waiters: Waiter[] = [];
  #timer: TimerHandle | undefined;
  #timerAt = Infinity;
  /** One abort listener per distinct signal, whatever the number of waiters on it. */
  readonly #signals = new SignalRegistry<Waiter>((ws, signal) => this.#aborted(ws, signal));

  constructor(options: PacerOptions = {}) {
    super(options, 'pacer');
    optKnownKeys('Pacer', options, PACER_KEYS);
    this.maxHoldMs = optNumber('maxHoldMs', options.maxHoldMs ?? PACER_DEFAULTS.maxHoldMs, Number.MIN_VALUE);
    this.maxWaitMs = optNumber('maxWaitMs', options.maxWaitMs ?? PACER_DEFAULTS.maxWaitMs, 0);
  }

  admit(context?: AdmissionContext): Admission | Promise<Admission> {
    const ctx = readContext(context, this);
    if (this.closed) return this.reject('closed', Infinity, undefined, ctx);
    // An aborted caller is refused even when the pacer is open, as every gate does.
    if (ctx.signal?.aborted) return Promise.reject(abortError(this.name, ctx.signal));
    const now = this.clock.now();
    this.#refill(now);
    if (this.#waiters.length === 0 && this.#open(now)) return this.#take(ctx, now, now);
    const readyAt = this.#readyAt(now);
    const deadline = waitDeadline(ctx, now, this.maxWaitMs);
    // Told at once, not after waiting: the hold outlasts what this caller can wait.
    if (readyAt > deadline) return this.reject('rate_limited', readyAt - now, this.#facts(now), ctx);
    return new Promise<Admission>((resolve, reject) => {
      const w: Waiter = { ctx, since: now, resolve, reject, timer: undefined, group: undefined, prevOfSignal: undefined, nextOfSignal: undefined };
      if (ctx.signal !== undefined) this.#signals.join(w, ctx.signal);
      this.#waiters.push(w);
      if (deadline !== Infinity) {
        w.timer = this.clock.setTimer(() => {
          w.timer = undefined;
          // Quota due exactly at the deadline still counts: serve whoever can go first.
          this.#drain();
          if (!this.#unlink(w)) return;
          const t = this.clock.now();
          w.resolve(this.reject('rate_limited', Math.max(0, this.#readyAt(t) - t), this.#facts(t), w.ctx));
        }, deadline - now);
      }
      this.#schedule(readyAt);
    });
  }

  /**
   * Tell the pacer what the response to `permit`'s request said: its quotas (see
   * `readRateLimit`) and, for a 429 / 503, its Retry-After in ms. Only quotas in requests
   * pace; the tightest (least remaining, then latest reset) wins.
   */
  observe(permit: Permit, quotas: readonly ServerQuota[], retryAfterMs: number | undefined): void {
    if (this.closed) return;
    const now = this.clock.now();
    if (retryAfterMs !== undefined && retryAfterMs > 0) {
      const until = now + Math.min(retryAfterMs, this.maxHoldMs);
      if (until > this.#holdUntil) this.#holdUntil = until;
    }
    const q = tightest(quotas);
    const seq = (permit as GatePermit).tag;
    if (q !== undefined && typeof seq === 'number' && seq >= this.#heard) {
      this.#heard = seq;
      const resetMs = q.resetMs ?? q.windowMs;
      this.#policy = q.policy;
      this.#limit = q.limit;
      this.#windowMs = q.windowMs;
      if (resetMs === undefined) {
        // Nothing says when quota comes back: holding on r = 0 could hold forever.
        this.#remaining = Infinity;
        this.#resetAt = 0;
      } else {
        // Requests granted after this one also spend the quota the server counted down.
        this.#remaining = Math.max(0, q.remaining - (this.#granted - seq));
        this.#resetAt = now + Math.min(resetMs, this.maxHoldMs);
      }
    }
    this.#drain();
  }

  stats(): PacerStats {
    const now = this.clock.now();
    this.#refill(now);
    return {
      ...this.baseStats(),
      inFlight: this.admittedCount - this.releasedCount,
      queued: this.#waiters.length,
      limit: this.#limit ?? Infinity,
      tokens: Number.isFinite(this.#remaining) ? this.#remaining : undefined,
      remaining: this.#remaining,
      resetMs: this.#resetAt > now ? this.#resetAt - now : 0,
      holdMs: this.#holdUntil > now ? this.#holdUntil - now : 0,
      policy: this.#policy,
    };
  }

  /** Stop admitting; waiters settle with a `closed` rejection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.#timer !== undefined) this.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      this.#settle(w);
      w.resolve(this.reject('closed', Infinity, undefined, w.ctx));
    }
  }

  #open(now: number): boolean {
    return now >= this.#holdUntil && this.#remaining >= 1;
  }

  /** When the head of the line could go. Invariant: a finite #remaining has a pending reset. */
  #readyAt(now: number): number {
    const quotaAt = this.#remaining >= 1 ? now : this.#resetAt;
    return Math.max(this.#holdUntil, quotaAt, now);
  }

  #refill(now: number): void {
    if (this.#resetAt === 0 || now < this.#resetAt) return;
    if (this.#limit !== undefined && this.#windowMs !== undefined) {
      // A fresh window of the advertised quota.
      this.#remaining = this.#limit;
      this.#resetAt = now + Math.min(this.#windowMs, this.maxHoldMs);
    } else {
      this.#remaining = Infinity;
      this.#resetAt = 0;
    }
  }

  #take(ctx: AdmissionContext, since: number, now: number): GatePermit {
    this.#remaining -= 1;
    this.#granted++;
    return this.grant(ctx, 1, now - since, this.#facts(now), this.#granted, now);
  }

  #facts(now: number): PolicyFacts | undefined {
    if (this.#limit === undefined || this.#windowMs === undefined) return undefined;
    return {
      policy: this.#policy,
      limit: this.#limit,
      remaining: Math.max(0, Number.isFinite(this.#remaining) ? this.#remaining : this.#limit),
      windowMs: this.#windowMs,
      resetMs: this.#resetAt > now ? this.#resetAt - now : 0,
    };
  }

  #drain(): void {
    if (this.#waiters.length === 0) return;
    const now = this.clock.now();
    this.#refill(now);
    while (this.#waiters.length > 0 && this.#open(now)) {
      const w = this.#waiters.shift()!;
      this.#settle(w);
      w.resolve(this.#take(w.ctx, w.since, now));
    }
    if (this.#waiters.length > 0) this.#schedule(this.#readyAt(now));
  }

  /** One timer, at the earliest time the head may go. */
  #schedule(at: number): void {
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    if (this.#timer !== undefined) this.clock.clearTimer(this.#timer);
    this.#timerAt = at;
    this.#timer = this.clock.setTimer(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#drain();
    }, at - this.clock.now());
  }

  /** A signal fired: its waiters still in line leave it (in one pass), each rejected as its own listener did. */
  #aborted(ws: Waiter[], signal: AbortSignal): void {
    let out: Waiter[];
    if (ws.length === 1) {
      out = this.#unlink(ws[0]!) ? ws : [];
    } else {
      const gone = new Set(ws);
      const line = this.#waiters;
      out = [];
      let kept = 0;
      for (const w of line) {
        if (gone.has(w)) out.push(w);
        else line[kept++] = w;
      }
      line.length = kept;
      for (const w of out) this.#settle(w);
    }
    for (const w of out) w.reject(abortError(this.name, signal));
  }

  #unlink(w: Waiter): boolean {
    const i = this.#waiters.indexOf(w);
    if (i < 0) return false;
    this.#waiters.splice(i, 1);
    this.#settle(w);
    return true;
  }

  #settle(w: Waiter): void {
    if (w.timer !== undefined) this.clock.clearTimer(w.timer);
    w.timer = undefined;
    if (w.group !== undefined) this.#signals.leave(w);
  }
}

/** Least remaining first, then the latest reset; only quotas counted in requests. */
function tightest(quotas: readonly ServerQuota[]): ServerQuota | undefined {
  let best: ServerQuota | undefined;
  for (const q of quotas) {
    if (q.unit !== 'requests' && q.unit !== 'request') continue;
    if (best === undefined || q.remaining < best.remaining || (q.remaining === best.remaining && (q.resetMs ?? 0) > (best.resetMs ?? 0))) best = q;
  }
  return best;
}
