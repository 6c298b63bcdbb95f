/**
 * A concurrency limit shared by every process through Redis: slots are leases with a TTL
 * (lease-scripts.ts). This process admits a caller only on a slot it leased, so across every
 * process the work in flight never exceeds `limit` while each renews its leases in time; a
 * process that dies holds nothing after `leaseTtlMs`.
 *
 * Per request by default: a caller that finds no idle leased slot asks Redis for one (one
 * script), runs on it, and gives it back at release when nobody here waits (`spare` keeps
 * some idle slots leased: fewer round trips, fewer slots for the others). Leases are renewed
 * every leaseTtlMs / 3 in one call.
 *
 * Waiting stays local: each process queues its own callers (FIFO, `maxQueue`, `maxWaitMs`,
 * deadlines, abort) and, while they wait and the limit is full elsewhere, asks again every
 * `pollMs`. Fairness across processes: a process whose callers wait says so in Redis; while
 * others wait too, a process keeps at most an equal share of the limit (floor(limit / waiting
 * processes), at least 1) and gives back what it frees above it, so waiting processes
 * converge to equal shares within about one `pollMs` plus a service time. Within a process,
 * callers are served in arrival order; across processes there is no global order.
 *
 * When the store cannot answer: 'open' admits up to `limit` here, 'local' up to
 * limit / instances less what the others held above their shares at the switch (at least 1), 'closed' only on leases still valid (by the time they were last
 * renewed), then none — and refuses the callers it cannot admit `store_unavailable` (a 503
 * in sluice/http, `retryAfterMs` the store's probe period), as a closed rate store does: the
 * outage is neither the callers' doing nor a full limit. Back in shared mode, this process
 * leases for what it already runs.
 */
import { abortError, GateBase, readContext, waitDeadline } from '../core/gate-base.js';
import type { GateOptions, GatePermit } from '../core/gate-base.js';
import { optInt, optNumber } from '../core/options.js';
import { optionKeys, optKnownKeys } from '../core/option-keys.js';
import type { TimerHandle } from '../core/clock.js';
import { stallAware } from '../core/stall-aware.js';
import type { Admission, AdmissionContext, GateStats, Outcome } from '../core/types.js';
import { keyNamer, keyPart } from './keys.js';
import { LeaseClient } from './lease-client.js';
import type { LeaseAnswer } from './lease-client.js';
import { failureConfig } from './options.js';
import type { FailureConfig, FailureOptions } from './options.js';
import { StoreUnavailableError } from './store-errors.js';
import { linkOf, type RedisStoreHandle } from './store-link.js';
import { deepFreeze } from '../core/deep-freeze.js';

export interface SharedConcurrencyOptions extends GateOptions, FailureOptions {
  /** Slots in flight across every process. Integer >= 1. */
  readonly limit: number;
  /**
   * Callers of this process that may wait for a slot. 0: a caller waits only for the one
   * lease call its arrival starts, and is refused 'concurrency' if it brings no slot.
   * Integer >= 0. @default 0
   */
  readonly maxQueue?: number;
  /** Longest a caller waits, ms (a context's deadline or maxWaitMs can shorten it). > 0. @default Infinity */
  readonly maxWaitMs?: number;
  /** Lease time: a dead process's slots come back within it. Renewed every third of it. >= 30. @default 5000 */
  readonly leaseTtlMs?: number;
  /** While callers wait and the limit is full elsewhere, ask again this often, ms. >= 1. @default 10 */
  readonly pollMs?: number;
  /** Idle slots kept leased beyond those in use. Integer >= 0. @default 0 */
  readonly spare?: number;
}

const SHARED_CONCURRENCY_KEYS = optionKeys<SharedConcurrencyOptions>({ name: true, clock: true, onStoreError: true, instances: true, limit: true, maxQueue: true, maxWaitMs: true, leaseTtlMs: true, pollMs: true, spare: true });

/** In a failure mode with nothing waiting, how often the gate tries the store again, ms. */
const FALLBACK_RETRY_MS = 100;

export const SHARED_CONCURRENCY_DEFAULTS = deepFreeze({ maxQueue: 0, maxWaitMs: Infinity, leaseTtlMs: 5000, pollMs: 10, spare: 0 } as const);

/** Stats of a shared concurrency gate: the gate's, plus its leases. */
export interface SharedConcurrencyStats extends GateStats {
  /** Slots this process leases now. */
  readonly held: number;
  /** 'shared' while its last lease call was answered; else its failure mode decides. */
  readonly mode: 'shared' | 'fallback';
}

interface Waiter {
  readonly ctx: AdmissionContext;
  readonly cost: number;
  readonly start: number;
  /** Waits only for the answer of one lease call made for it (maxQueue 0). */
  readonly once: boolean;
  /** A lease call made while it waited is out. */
  asked: boolean;
  readonly resolve: (a: Admission) => void;
  readonly fail: (e: Error) => void;
  timer: TimerHandle | undefined;
  onAbort: (() => void) | undefined;
}

export class SharedConcurrencyGate extends GateBase {
  readonly kind = 'shared-concurrency';
  readonly limit: number;
  readonly maxQueue: number;
  readonly maxWaitMs: number;
  readonly pollMs: number;
  readonly spare: number;
  readonly failure: FailureConfig;
  readonly leases: LeaseClient;
  #inFlight = 0;
  readonly #queue: Waiter[] = [];
  #mode: 'shared' | 'fallback' = 'shared';
  /** The store error last warned of, until a lease call succeeds. */
  #warned: string | undefined;
  /** Leases Redis counted above the limit at the last answer. */
  #over = 0;
  /** Leases Redis counted, every holder's, at the last answer (undefined before one). */
  #used: number | undefined;
  /** At the switch to 'local': what the others held above their shares (their work on it runs on). */
  #othersOver = 0;
  /** Local clock time until which the leases are known valid (last renewal sent + TTL). */
  #validUntil = -Infinity;
  #othersWanting = 0;
  /** What the other waiting processes lack of their fair share, by Redis's last count (its leases all counted as theirs). */
  #othersShort = 0;
  #busy = false;
  #poll: TimerHandle | undefined;
  readonly #renewTimer: NodeJS.Timeout;
  /** The store's probe period: the retryAfterMs of a refusal for its outage. */
  readonly #probeMs: number;
  /** Waiters' deadline timers: one that fires late (a stall of the loop) expires after the sockets are read, so a release or lease answer that came meanwhile serves first (core/stall-aware.ts). */
  readonly #deadlines = stallAware(this.clock);

  /** `store.concurrency(options)`: slots leased under `<keyPrefix>{<name>}:leases`. */
  constructor(store: RedisStoreHandle, options: SharedConcurrencyOptions) {
    const link = linkOf(store);
    if (options?.name !== undefined) keyPart('name', options.name);
    optKnownKeys('RedisStore.concurrency', options, SHARED_CONCURRENCY_KEYS);
    super(options, 'shared-concurrency');
    const base = link.config.keyPrefix;
    const failure = failureConfig(options, link.config);
    const d = SHARED_CONCURRENCY_DEFAULTS;
    this.limit = optInt('limit', options.limit, 1);
    this.maxQueue = optInt('maxQueue', options.maxQueue ?? d.maxQueue, 0);
    this.maxWaitMs = optNumber('maxWaitMs', options.maxWaitMs ?? d.maxWaitMs, Number.MIN_VALUE);
    const ttl = optNumber('leaseTtlMs', options.leaseTtlMs ?? d.leaseTtlMs, 30, 86_400_000);
    this.pollMs = optNumber('pollMs', options.pollMs ?? d.pollMs, 1, 60_000);
    this.spare = optInt('spare', options.spare ?? d.spare, 0, this.limit);
    this.failure = failure;
    // Under the connection's keyNames: a limit named by a tenant (`key:…`) is no readable key.
    this.leases = new LeaseClient(link, base, keyNamer(link.config.keyNames)(this.name), this.limit, ttl);
    this.#probeMs = link.config.probeMs;
    this.#renewTimer = setInterval(() => this.#renew(), ttl / 3);
    this.#renewTimer.unref();
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** How many may run here now. */
  get capacity(): number {
    if (this.#mode === 'shared') return this.leases.held.length;
    switch (this.failure.onStoreError) {
      case 'open':
        return this.limit;
      case 'local':
        return Math.max(1, this.#share() - this.#othersOver);
      case 'closed':
        return this.clock.now() < this.#validUntil ? this.leases.held.length : 0;
    }
  }

  admit(context?: AdmissionContext): Admission | Promise<Admission> {
    const ctx = readContext(context, this);
    if (this.closed) return this.reject('closed', Infinity, undefined, ctx);
    if (ctx.signal?.aborted) return Promise.reject(abortError(this.name, ctx.signal));
    const cost = ctx.cost ?? 1;
    if (cost > this.limit) return this.reject('concurrency', Infinity, undefined, ctx);
    const now = this.clock.now();
    if (this.#queue.length === 0 && this.#inFlight + cost <= this.capacity) return this.#take(ctx, cost, now, now);
    if (this.#storeAway()) return this.reject('store_unavailable', this.#probeMs, undefined, ctx);
    const once = this.maxQueue === 0;
    if (!once && this.#queue.length >= this.maxQueue) return this.reject('queue_full', this.pollMs, undefined, ctx);
    const deadline = waitDeadline(ctx, now, this.maxWaitMs);
    if (deadline <= now) return this.reject('queue_timeout', this.pollMs, undefined, ctx);
    return new Promise<Admission>((resolve, fail) => {
      const w: Waiter = { ctx, cost, start: now, once, asked: false, resolve, fail, timer: undefined, onAbort: undefined };
      if (deadline !== Infinity) w.timer = this.#deadlines.setTimer(() => this.#leave(w, this.reject('queue_timeout', this.pollMs, undefined, ctx)), deadline - now);
      const signal = ctx.signal;
      if (signal !== undefined) {
        w.onAbort = () => this.#leave(w, abortError(this.name, signal));
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.#queue.push(w);
      this.#ask();
    });
  }

  stats(): SharedConcurrencyStats {
    return { ...this.baseStats(), inFlight: this.#inFlight, queued: this.#queue.length, limit: this.limit, tokens: undefined, held: this.leases.held.length, mode: this.#mode };
  }

  /**
   * Refuse waiters ('closed') and later callers; leases go back as the work in flight ends —
   * with the ids of lease calls never answered, and in a failure mode once the store answers
   * (tried every 100 ms for up to a lease TTL).
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.#queue.splice(0)) this.#settle(w, this.reject('closed', Infinity, undefined, w.ctx));
    if (this.#poll !== undefined) this.clock.clearTimer(this.#poll);
    this.#poll = undefined;
    this.#giveBack();
  }

  override onRelease(permit: GatePermit, outcome: Outcome): void {
    this.#inFlight -= permit.cost;
    super.onRelease(permit, outcome);
    this.#giveBack();
    this.#pump();
  }

  #take(ctx: AdmissionContext, cost: number, start: number, now: number): GatePermit {
    this.#inFlight += cost;
    return this.grant(ctx, cost, now - start, undefined, undefined, now);
  }

  /** Serve waiters in order while they fit. */
  #pump(): void {
    const q = this.#queue;
    while (q.length > 0 && this.#inFlight + q[0]!.cost <= this.capacity) {
      const w = q.shift()!;
      const now = this.clock.now();
      this.#settle(w, this.#take(w.ctx, w.cost, w.start, now));
    }
  }

  #settle(w: Waiter, answer: Admission | Error): void {
    if (w.timer !== undefined) this.#deadlines.clearTimer(w.timer);
    if (w.onAbort !== undefined) w.ctx.signal?.removeEventListener('abort', w.onAbort);
    if (answer instanceof Error) w.fail(answer);
    else w.resolve(answer);
  }

  #leave(w: Waiter, answer: Admission | Error): void {
    const i = this.#queue.indexOf(w);
    if (i < 0) return;
    this.#queue.splice(i, 1);
    this.#settle(w, answer);
  }

  #wanted(): number {
    let n = 0;
    for (const w of this.#queue) n += w.cost;
    return n;
  }

  /** The most this process keeps while others wait: an equal share. */
  #fairShare(): number {
    return this.#othersWanting > 0 ? Math.max(1, Math.floor(this.limit / (this.#othersWanting + 1))) : this.limit;
  }

  /** Ask Redis for what the waiters (and work admitted in a failure mode) need, unless a call is out. */
  #ask(): void {
    if (this.#busy || this.closed) return;
    if (this.#poll !== undefined) {
      this.clock.clearTimer(this.#poll);
      this.#poll = undefined;
    }
    const wanted = this.#wanted();
    const held = this.leases.held.length;
    let need = this.#inFlight + wanted - held;
    // While others wait, up to the fair share — beyond it only into room nobody waiting lacks (a
    // share that does not divide the limit leaves slots over: 3 x 3 of 10, the tenth unused).
    if (this.#othersWanting > 0) need = Math.min(need, Math.max(this.#fairShare() - held, this.#othersShort > 0 ? 0 : this.limit - (this.#used ?? this.limit)));
    const sent = this.clock.now();
    for (const w of this.#queue) w.asked = true;
    if (need > 0) this.#call(this.leases.acquire(need, wanted, this.#inFlight), sent, need);
    else this.#call(this.leases.renew(wanted, this.#inFlight), sent, 0);
  }

  #renew(): void {
    if (this.#busy || (this.leases.owed === 0 && this.#queue.length === 0 && this.#mode === 'shared')) return;
    this.#call(this.leases.renew(this.#wanted(), this.#inFlight), this.clock.now(), 0);
  }

  /** `asked`: slots requested (0: a renewal). */
  #call(call: Promise<LeaseAnswer>, sent: number, asked: number): void {
    this.#busy = true;
    call.then(
      (a) => {
        this.#busy = false;
        this.#mode = 'shared';
        this.#othersWanting = a.othersWanting;
        this.#over = Math.max(0, a.used - this.limit);
        this.#used = a.used;
        this.#othersShort = Math.max(0, a.othersWanting * this.#fairShare() - (a.used - this.leases.held.length));
        this.#warned = undefined;
        if (asked === 0) this.#validUntil = sent + this.leases.ttlMs;
        this.#answered(asked > 0 && a.n === asked);
      },
      (err: unknown) => {
        this.#busy = false;
        if (this.#mode === 'shared') this.#othersOver = this.#othersOverAtSwitch();
        this.#mode = 'fallback';
        // Once per error until a call succeeds: in a failure mode the gate calls every 100 ms,
        // and a key of another type (WRONGTYPE) stays until someone deletes it.
        const why = String(err);
        if (!(err instanceof StoreUnavailableError) && why !== this.#warned) process.emitWarning(`sluice: shared concurrency ${this.name}: ${why} (said once until a lease call succeeds)`, { code: 'SLUICE_STORE_ERROR' });
        this.#warned = err instanceof StoreUnavailableError ? this.#warned : why;
        this.#answered(false);
      },
    );
  }

  /**
   * A lease call came back: serve, give back, refuse the callers that waited only for it.
   * Callers who came while it was out are asked for at once if it got all it asked (the
   * limit had room); else in `pollMs`.
   */
  #answered(gotAll: boolean): void {
    if (this.closed) {
      this.#giveBack();
      return;
    }
    this.#giveBack();
    this.#pump();
    // In 'closed' mode with the store away, nobody left waiting can get a slot until it is back.
    const away = this.#storeAway();
    for (const w of this.#queue.filter((x) => away || (x.once && x.asked))) {
      this.#leave(w, away ? this.reject('store_unavailable', this.#probeMs, undefined, w.ctx) : this.reject('concurrency', this.pollMs, undefined, w.ctx));
    }
    if (gotAll && this.#queue.length > 0 && this.#mode === 'shared') {
      this.#ask();
      return;
    }
    // While callers wait (or run on no lease), ask again soon; in a failure mode, try for the
    // store every FALLBACK_RETRY_MS too (the guard lets one probe through per probeMs).
    const again = this.#queue.length > 0 || this.#inFlight > this.leases.held.length ? this.pollMs : this.#mode === 'fallback' ? FALLBACK_RETRY_MS : undefined;
    if (again !== undefined && this.#poll === undefined) {
      this.#poll = this.clock.setTimer(() => {
        this.#poll = undefined;
        this.#ask();
      }, again);
      // With nobody waiting it must not keep the process alive (a store closed while Redis is
      // away would retry here forever): only callers waiting for a slot do.
      if (this.#queue.length === 0) (this.#poll as { unref?: () => void }).unref?.();
    }
  }

  /** This process's share of the limit in the 'local' failure mode: ⌊limit / instances⌋, at least 1. */
  #share(): number {
    return Math.max(1, Math.floor(this.limit / this.failure.instances));
  }

  /**
   * The others' work on leases above their shares runs on after the switch to 'local':
   * admitting up to the whole share beside it would put more in flight than the limit (held 3
   * and 1 of 4, shares of 2: 5). By Redis's last count, kept for the outage (nothing tells when
   * that work ended).
   */
  #othersOverAtSwitch(): number {
    if (this.#used === undefined || this.failure.onStoreError !== 'local') return 0;
    return Math.max(0, this.#used - this.leases.held.length - (this.failure.instances - 1) * this.#share());
  }

  /** The store is away and the failure mode refuses: the callers that do not fit are refused for the outage. */
  #storeAway(): boolean {
    return this.#mode === 'fallback' && this.failure.onStoreError === 'closed';
  }

  /** Give back idle leased slots beyond `spare` (all of them once closed), and above the fair share while others wait. */
  #giveBack(): void {
    if (this.closed && this.#inFlight === 0) {
      clearInterval(this.#renewTimer);
      // Everything held and owed, in a failure mode too (nothing else would give it back).
      this.leases.returnAll(this.clock, FALLBACK_RETRY_MS);
      return;
    }
    if (this.#mode !== 'shared') return;
    const held = this.leases.held.length;
    const idle = held - this.#inFlight;
    if (idle <= 0) return;
    // Leases over the limit in Redis (work a failure mode admitted, leased back when Redis
    // returned): a slot it frees goes back, not to a waiter here, or the excess would last as
    // long as a queue does.
    let excess = Math.min(idle, this.#over);
    this.#over -= excess;
    if (this.closed) excess = idle;
    else if (this.#queue.length === 0) excess = Math.max(excess, idle - this.spare);
    else if (this.#othersWanting > 0) {
      // Above the fair share, by no more than the others lack: what it frees beyond that would serve nobody.
      const down = Math.min(idle, held - this.#fairShare(), this.#othersShort);
      this.#othersShort -= Math.max(0, down);
      excess = Math.max(excess, down);
    }
    if (excess <= 0) return;
    // Out of `held` at once; Redis hears of it as soon as the call lands (or the leases expire).
    this.leases.release(excess, this.closed ? 0 : this.#wanted()).then(
      () => undefined,
      () => undefined,
    );
  }
}
