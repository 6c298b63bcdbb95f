/**
 * A concurrency limit: at most `limit` units of work in flight (a unit per request, or `ctx.cost` units for weighted work),
 * with an optional bounded wait queue served in the order of a waiting discipline (FIFO, LIFO, CoDel, priority with aging),
 * optional priority partitions, and a limit that can change at run time (adaptive algorithms drive it: how, at the `algorithm` option).
 *
 * Invariant: the sum of the costs of unreleased permits never exceeds the limit in force when each was granted; lowering the
 * limit takes effect as permits are released.
 *
 * Service time (measured once, at release: also the algorithm's RTT unless the owner gave its own), `retryAfterMs` and early
 * refusal (`refuseEarly`): wait-estimate.ts.
 */
import { abortError, GateBase, GatePermit, passedOn, readContext, waitDeadline } from '../core/gate-base.js';
import { optInt, type Admission, type AdmissionContext, type GateStats, type Outcome, type Rejection } from '../core/index.js';
import type { Entry } from '../discipline/index.js';
import type { LimitAlgorithm } from '../limit/algorithm.js';
import { fitsIn, nextFitting, oldestHead, partitionMissing, Sampled, type Partition } from './partition.js';
import type { ReclaimAsk, SlotReclaimer } from './slot-reclaimer.js';
import { SignalRegistry } from '../core/signal-waiters.js';
import { DeadlineTimer } from './deadline-timer.js';
import { capture, settlers, Waiter, Watch } from './waiter.js';
import { drainOldestFirst, readmit, Succession } from './succession.js';
import { WaitEstimate } from './wait-estimate.js';
import { concurrencySettings, NO_QUEUE, type ConcurrencyOptions } from './concurrency-options.js';

export { CONCURRENCY_DEFAULTS, type ConcurrencyCommonOptions, type ConcurrencyOptions } from './concurrency-options.js';
export type { ReclaimAsk, SlotGate, SlotReclaimer } from './slot-reclaimer.js';

export class ConcurrencyGate extends GateBase {
  readonly kind: string = 'concurrency';
  #limit: number;
  #inFlight = 0;
  /** Units of #inFlight the gate's owner holds (hold(): a lease's ballast): they keep callers out, but no request runs on them, so stats().inFlight leaves them out. */
  #ballast = 0;
  #queued = 0;
  readonly #maxQueue: number;
  readonly #maxWaitMs: number;
  readonly #partitions: Partition<Waiter>[];
  readonly #byName = new Map<string, Partition<Waiter>>();
  readonly #default: Partition<Waiter>;
  /** Service time and observed waits: retryAfterMs and early refusals. */
  readonly #estimate = new WaitEstimate();
  readonly #refuseEarly: boolean;
  readonly #evict = (e: Entry<Waiter>): void => this.#evicted(e);
  readonly #algorithm: LimitAlgorithm | undefined;
  #seq = 0;
  /** Waiters with a deadline behind one timer for the gate. */
  readonly #deadlines: DeadlineTimer<Watch>;
  /** One abort listener per distinct signal, whatever the number of its waiters. */
  readonly #signals = new SignalRegistry<Watch>((watches, signal) => this.#aborted(watches, signal));
  /** While the store its slots are leased from is away (storeUnavailable): its refusals' retryAfterMs. */
  #away: number | undefined;
  /** Its place in a line of gates that replaced one another (handOver, succession.ts). */
  readonly #line = new Succession<ConcurrencyGate>();
  /** Whether a predecessor still has permits in flight here (Succession.lineage). */
  static readonly #holding = (g: ConcurrencyGate): boolean => g.#inFlight > 0;
  readonly #reclaimer: SlotReclaimer | undefined;

  constructor(options: ConcurrencyOptions) {
    super(options, 'concurrency');
    this.#deadlines = new DeadlineTimer<Watch>(this.clock, (watch) => this.#expire(watch));
    const o = concurrencySettings<Waiter>(options);
    this.#algorithm = o.algorithm;
    this.#limit = o.limit;
    this.#maxQueue = o.maxQueue;
    this.#maxWaitMs = o.maxWaitMs;
    this.#refuseEarly = o.refuseEarly;
    this.#reclaimer = o.reclaimer;
    this.#partitions = o.partitions;
    for (const p of o.partitions) this.#byName.set(p.name, p);
    this.#default = o.defaultPartition;
  }

  get limit(): number {
    return this.#limit;
  }

  /** Waiters the queue holds at most (0: no queue). */
  get maxQueue(): number {
    return this.#maxQueue;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get queued(): number {
    return this.#queued;
  }

  /** Smoothed service time (grant to release) of its permits, ms; 0 before the first release. */
  get serviceMs(): number {
    return this.#estimate.serviceMs;
  }

  /**
   * The early refusal `admit` would give `ctx` now (counted and emitted as a refusal), or
   * undefined. Always undefined without `refuseEarly` and while it could be served at once. For
   * callers that want to ask it before spending anything on other gates (an HTTP policy asks it before its rate limits).
   * `beforeWork` (a caller whose work cannot start yet, that asks admit() once it can: an upload still arriving): also what no
   * wait could spare (cost over the limit, queue full, no budget), with or without `refuseEarly`. Neither ever asks the reclaimer to give up anything.
   */
  earlyRefusal(context?: AdmissionContext, beforeWork = false): Rejection | undefined {
    if (this.#line.successor !== undefined) return this.#line.successor.earlyRefusal(context, beforeWork);
    const ctx = readContext(context, 'ConcurrencyGate.earlyRefusal');
    // admit() refuses closed and store_unavailable, and rejects an aborted caller: no early refusal (nor count) under another reason first.
    if (!(this.#refuseEarly || beforeWork) || this.closed || this.#away !== undefined || ctx.signal?.aborted === true) return undefined;
    const p = ctx.partition === undefined ? this.#default : this.#partition(ctx.partition);
    return this.#early(ctx, ctx.cost ?? 1, p, undefined, undefined, beforeWork);
  }

  /** Change the limit at run time. Raising it serves waiters at once; lowering it waits for releases. With an algorithm, its next change overrides this. */
  setLimit(limit: number): void {
    this.#limit = optInt('limit', limit, 1);
    for (const p of this.#partitions) p.resize(this.#limit);
    this.#drain();
  }

  /**
   * Give this gate's place to `successor` (a reload replaced it), so that one limit holds
   * (succession.ts): the units still in flight here count against the successor until they
   * are released (it admits nobody while they fill its limit); the waiters move there, oldest
   * first, and are served, queued or refused there as newcomers of their cost, priority and
   * deadline would be; a caller that still reaches this gate is the successor's.
   */
  handOver(successor: ConcurrencyGate): void {
    this.#line.link(this, successor, successor.#line);
    successor.#inFlight += this.#inFlight;
    successor.#estimate.adopt(this.#estimate); // the same work: early refusals go on across a reload
    successor.#ballast += this.#ballast;
    const waiters = drainOldestFirst(this.#partitions);
    for (const { value: w } of waiters) this.#forget(w);
    readmit(waiters, successor);
  }

  /** Units of a predecessor's permit (handOver) came back (`held`: its ballast). */
  #repaid(cost: number, held: boolean): void {
    this.#inFlight -= cost;
    if (held) this.#ballast -= cost;
    return this.#line.successor === undefined ? this.#drain() : this.#line.successor.#repaid(cost, held);
  }

  /**
   * While `retryAfterMs` is set, refuse every caller (and the waiters queued now)
   * `store_unavailable`, with it as their `retryAfterMs`: the slots this gate enforces are
   * leased from a shared store that cannot be reached, and its failure mode is 'closed' (the
   * gateway's slot leases). Permits in flight stay valid. `undefined` admits again.
   */
  storeUnavailable(retryAfterMs: number | undefined): void {
    this.#away = retryAfterMs;
    if (retryAfterMs !== undefined) this.#refuseQueued('store_unavailable', retryAfterMs);
  }

  admit(context?: AdmissionContext): Admission | Promise<Admission> {
    if (this.#line.successor !== undefined) return this.#line.successor.admit(passedOn(context, this));
    const ctx = readContext(context, this);
    if (this.closed) return this.reject('closed', Infinity, undefined, ctx);
    if (this.#away !== undefined) return this.reject('store_unavailable', this.#away, undefined, ctx);
    // An aborted caller is refused even when a slot is free (as rate gates and Channel.put do).
    if (ctx.signal?.aborted) return Promise.reject(abortError(this.name, ctx.signal));
    const cost = ctx.cost ?? 1;
    const p = ctx.partition === undefined ? this.#default : this.#partition(ctx.partition);
    if ((p.queue.size === 0 && this.#fits(p, cost)) || (cost <= this.#limit && this.#reclaimed(p, cost))) return this.#take(ctx, cost, p, 0);
    const now = this.clock.now();
    const deadline = waitDeadline(ctx, now, this.#maxWaitMs);
    return this.#unqueued(ctx, cost, p, now, deadline) ?? this.#enqueue(ctx, cost, p, now, deadline);
  }

  /** Why a caller that does not fit now is not queued (its cost, the queue, its budget, the early estimate), or undefined. */
  #unqueued(ctx: AdmissionContext, cost: number, p: Partition<Waiter>, now: number, deadline: number): Rejection | undefined {
    if (cost > this.#limit) return this.reject('concurrency', Infinity, undefined, ctx);
    if (this.#queued >= this.#maxQueue) {
      return this.#maxQueue > 0 ? this.reject('queue_full', this.#retryAfter(), undefined, ctx) : this.reject('concurrency', this.#retryAfter(), undefined, ctx, NO_QUEUE);
    }
    if (deadline <= now) return this.reject('queue_timeout', this.#retryAfter(), undefined, ctx);
    return this.#refuseEarly ? this.#early(ctx, cost, p, now, deadline) : undefined;
  }

  /**
   * The value API for a caller that does not wait: a permit when a slot is free now (and no
   * one is queued ahead in its partition), else a `concurrency` refusal — never a promise,
   * never a place in the queue. Throws AbortedError at once for an aborted signal.
   */
  tryAdmit(context?: AdmissionContext): Admission {
    if (this.#line.successor !== undefined) return this.#line.successor.tryAdmit(passedOn(context, this));
    const ctx = readContext(context, 'ConcurrencyGate.tryAdmit');
    if (this.closed) return this.reject('closed', Infinity, undefined, ctx);
    if (this.#away !== undefined) return this.reject('store_unavailable', this.#away, undefined, ctx);
    if (ctx.signal?.aborted) throw abortError(this.name, ctx.signal);
    const cost = ctx.cost ?? 1;
    const p = ctx.partition === undefined ? this.#default : this.#partition(ctx.partition);
    if ((p.queue.size === 0 && this.#fits(p, cost)) || (cost <= this.#limit && this.#reclaimed(p, cost))) return this.#take(ctx, cost, p, 0);
    return this.reject('concurrency', cost > this.#limit ? Infinity : this.#retryAfter(), undefined, ctx);
  }

  /** One unit in flight now, past the limit and the queue: no caller is admitted on it until it is released (a shared lease's ballast, sluice/shared SlotLease). */
  hold(): GatePermit {
    const permit = this.#take(readContext(undefined), 1, this.#default, 0, undefined, true);
    this.#ballast++;
    return permit;
  }

  /** Ask the `reclaimer` for room for each waiter, oldest first, while the full limit keeps it out (slot-reclaimer.ts); how many times room was made. */
  reclaimForWaiters(): number {
    if (this.#line.successor !== undefined) return this.#line.successor.reclaimForWaiters();
    const start = this.#queued;
    for (let n = start; n > 0; n--) {
      const head = oldestHead(this.#partitions);
      const ask = head === undefined ? undefined : this.#ask(head.partition, head.value.cost);
      if (ask === undefined || !this.#reclaimer!.reclaim(ask)) return start - n;
    }
    return start;
  }

  stats(): GateStats {
    return { ...this.baseStats(), inFlight: this.#inFlight - this.#ballast, queued: this.#queued, limit: this.#limit, tokens: undefined };
  }

  /** In flight and queued per partition; in flight, as in stats(), without a held slot (hold()). */
  partitionStats(): { name: string; share: number; guarantee: number; inFlight: number; queued: number }[] {
    return this.#partitions.map((p) => ({ name: p.name, share: p.share, guarantee: p.guarantee, inFlight: p.inFlight - p.held, queued: p.queue.size }));
  }

  /** Stop admitting; every waiter settles with a `closed` rejection. Permits in flight stay valid. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#refuseQueued('closed', Infinity);
  }

  #refuseQueued(reason: 'closed' | 'store_unavailable', retryAfterMs: number): void {
    for (const e of this.#partitions.flatMap((p) => p.queue.drain())) {
      this.#forget(e.value);
      e.value.resolve(this.reject(reason, retryAfterMs, undefined, e.value.ctx));
    }
  }

  override onRelease(permit: GatePermit, outcome: Outcome): void {
    const algorithm = this.#algorithm;
    const p = algorithm === undefined ? (permit.tag as Partition<Waiter>) : (permit.tag as Sampled<Waiter>).partition;
    this.#inFlight -= permit.cost;
    if (permit.held) this.#ballast -= permit.cost;
    p.release(permit.cost, permit.held);
    let next = this.#limit;
    let now: number | undefined;
    if (outcome !== 'ignored') {
      now = this.clock.now();
      const latency = now - permit.grantedAt;
      this.#estimate.served(latency, now);
      const rttMs = permit.rttMs ?? latency;
      if (algorithm !== undefined && (permit.rttMs === undefined || rttMs > 0)) {
        const inFlight = (permit.tag as Sampled<Waiter>).inFlight;
        next = Math.round(algorithm.onSample({ startTime: permit.grantedAt, rttMs, inFlight, dropped: outcome === 'dropped' }));
      }
    } else this.#estimate.unsampled();
    super.onRelease(permit, outcome);
    if (this.#line.successor !== undefined) return this.#line.successor.#repaid(permit.cost, permit.held);
    // setLimit drains too; the release event goes out before the grants it makes possible.
    if (next !== this.#limit) this.setLimit(next);
    else this.#drain(now);
  }

  #partition(name: string): Partition<Waiter> {
    return this.#byName.get(name) ?? partitionMissing(this.#byName, name);
  }

  #fits(p: Partition<Waiter>, cost: number): boolean {
    return fitsIn(this.#partitions, p, cost, this.#inFlight, this.#limit);
  }

  /** What to ask the reclaimer for a caller of `cost` in `p`: undefined without one, or while the limit as a whole leaves room. A predecessor whose permits all came back holds nothing more. */
  #ask(p: Partition<Waiter>, cost: number): ReclaimAsk | undefined {
    const units = this.#inFlight + cost - this.#limit;
    if (this.#reclaimer === undefined || units <= 0) return undefined;
    return { gate: this, gates: this.#line.lineage(this, ConcurrencyGate.#holding), units, partition: p.name };
  }

  /** Whether the reclaimer gave up enough for the caller to be taken now (a release serves waiters first). */
  #reclaimed(p: Partition<Waiter>, cost: number): boolean {
    const ask = this.#ask(p, cost);
    return ask !== undefined && this.#reclaimer!.reclaim(ask) && p.queue.size === 0 && this.#fits(p, cost);
  }

  #take(ctx: AdmissionContext, cost: number, p: Partition<Waiter>, waitedMs: number, now = this.clock.now(), held = false): GatePermit {
    this.#inFlight += cost;
    p.take(cost, held);
    try {
      const tag = this.#algorithm === undefined ? p : new Sampled(p, this.#inFlight);
      return held ? new GatePermit(this, this.name, cost, now, undefined, tag, true) : this.#estimate.granted(this.grant(ctx, cost, waitedMs, undefined, tag, now));
    } catch (err) {
      // The clock is read first (`now`); what throws after (the caller's context, read for the admit event) keeps no units (gwedge).
      this.#inFlight -= cost;
      p.release(cost, held);
      throw err;
    }
  }

  #enqueue(ctx: AdmissionContext, cost: number, p: Partition<Waiter>, now: number, deadline: number): Promise<Admission> {
    const promise = new Promise<Admission>(capture);
    const w = new Waiter(ctx, cost, p, settlers.resolve, settlers.reject);
    const signal = ctx.signal;
    if (deadline !== Infinity || signal !== undefined) {
      const watch = new Watch(w, deadline, this.#seq++);
      // First, so that a signal that is no AbortSignal throws before anything is queued.
      if (signal !== undefined) this.#signals.join(watch, signal);
      w.watch = watch;
      if (deadline !== Infinity) this.#deadlines.add(watch, now);
    }
    w.entry = p.queue.push(w, ctx.priority ?? 0, now);
    this.#queued++;
    w.position = this.#queued;
    return promise;
  }

  /** A waiter's deadline has come (DeadlineTimer): it leaves the queue refused. */
  #expire(watch: Watch): void {
    const w = watch.waiter;
    w.partition.queue.remove(w.entry!);
    this.#forget(w);
    w.resolve(this.reject('queue_timeout', this.#retryAfter(), undefined, w.ctx));
    // A waiter leaving the head may unblock smaller ones behind it (weighted costs).
    // Listeners of the events this emits may re-enter (admit, release, abort, close).
    this.#drain();
  }

  /** A signal fired: every waiter on it leaves with the same error a listener of its own gave it. */
  #aborted(watches: Watch[], signal: AbortSignal): void {
    for (const { waiter: w } of watches) {
      if (w.entry === undefined || !w.partition.queue.remove(w.entry)) continue;
      this.#forget(w);
      w.reject(abortError(this.name, signal));
    }
    this.#drain();
  }

  #evicted(e: Entry<Waiter>): void {
    const w = e.value;
    this.#forget(w);
    this.dropped('codel', 1);
    w.resolve(this.reject('shed', this.#retryAfter(), undefined, w.ctx));
  }

  /** Bookkeeping for a waiter that just left its discipline queue: count, deadline, signal. */
  #forget(w: Waiter): void {
    this.#queued--;
    const watch = w.watch;
    if (watch === undefined) return;
    this.#deadlines.remove(watch);
    if (watch.group !== undefined) this.#signals.leave(watch);
  }

  /** Serve waiters while capacity allows, partitions below their guarantee first. `at`: a clock reading the caller just took. */
  #drain(at?: number): void {
    if (this.#queued === 0) return;
    const now = at ?? this.clock.now();
    for (;;) {
      const next = this.#next(now);
      if (next === undefined) return;
      const w = next.value;
      w.partition.queue.remove(next);
      this.#forget(w);
      if (w.cost > this.#limit) {
        // The limit was lowered under it (setLimit, the algorithm) since it queued: refused at the head of the queue as a newcomer
        // of its cost would be ('concurrency', retryAfterMs Infinity) — waiting cannot serve it, and those behind must not wait for it.
        w.resolve(this.reject('concurrency', Infinity, undefined, w.ctx));
        continue;
      }
      const waited = now - next.enqueuedAt;
      this.#estimate.waited(waited, w.position, now);
      try {
        w.resolve(this.#take(w.ctx, w.cost, w.partition, waited, now));
      } catch (err) {
        w.reject(err); // its grant threw (#take gave the units back): it hears why, and the next is served
      }
    }
  }

  /** The next waiter that fits now, or undefined (one whose cost exceeds the limit is taken too: #drain refuses it). */
  #next(now: number): Entry<Waiter> | undefined {
    return nextFitting(this.#partitions, this.#limit, now, (p, cost) => this.#fits(p, cost), this.#evict);
  }

  /** Expected wait for a slot (WaitEstimate.retryAfter: service time, busy slots' residual, observed waits within maxWaitMs), at least 1 ms. */
  #retryAfter(): number {
    return this.#estimate.retryAfter(this.#queued, this.#limit, this.clock.now(), this.#maxWaitMs);
  }

  /** The early refusal of a caller that would queue now (see the module comment; `all`: earlyRefusal's beforeWork), or undefined; none while the reclaimer can make room (admit() makes it). */
  #early(ctx: AdmissionContext, cost: number, p: Partition<Waiter>, at?: number, until?: number, all = false): Rejection | undefined {
    if (p.queue.size === 0 && this.#fits(p, cost)) return undefined;
    const ask = this.#ask(p, cost);
    if (ask !== undefined && this.#reclaimer!.reclaimable(ask)) return undefined;
    const now = at ?? this.clock.now();
    if (all) return this.#unqueued(ctx, cost, p, now, waitDeadline(ctx, now, this.#maxWaitMs));
    const budget = (until ?? waitDeadline(ctx, now, this.#maxWaitMs)) - now;
    if (!(budget > 0)) return undefined; // no wait at all: admit() decides
    const expected = this.#estimate.tooLong(this.#queued, this.#limit, budget, now);
    return expected === undefined ? undefined : this.reject('queue_timeout', expected, undefined, ctx);
  }
}
