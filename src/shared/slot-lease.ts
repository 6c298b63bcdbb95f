/**
 * A process's share of a concurrency limit shared through a {@link SharedLimitStore}: the
 * local gate's limit is the number of slots this process leased, so its in-flight count
 * never exceeds what it holds, and across every process never exceeds the shared limit.
 *
 * Every tick (and never with more than one store call outstanding) the lease:
 * - asks for more when callers wait in the local queue or were refused for want of a slot
 *   since the last tick (at most `batch` at a time) and says so (its demand), or asks for
 *   nothing just to learn its fair share. Refusals count: a gate without a queue, or one
 *   that refuses early (its expected wait too long for the caller's budget), never has
 *   anyone waiting, and a share that never grows would refuse for ever while the others'
 *   slots sit idle. A process at its fair share while others want slots too asks only every
 *   10th tick: nothing is free then, and it asks to learn when the others' demand has ended;
 * - gives back idle slots when others want some: above its fair share while its own
 *   callers wait, above what it uses (at least 1) while none do.
 * A slot goes back only after the local limit was lowered below it (so it is idle and
 * stays idle); a slot comes in only after the store counted it as this process's.
 *
 * The local gate never has limit 0: with nothing leased (the first take found every slot
 * held elsewhere), the lease itself holds the gate's one slot as ballast until a grant.
 */
import type { Permit } from '../core/types.js';
import type { ConcurrencyGate } from '../concurrency/concurrency-gate.js';
import type { SharedLimitStore } from './limit-store.js';

/** Ticks after its last demand during which a process keeps its fair share. */
const RECENT_TICKS = 20;
/** Ticks between asks of a process that holds its fair share while others want slots. */
const ASK_AT_SHARE_TICKS = 10;

export interface SlotLeaseOptions {
  /** The store's name for this limit (the same in every process). */
  readonly name: string;
  /** The shared limit. */
  readonly limit: number;
  /** Slots asked for at start: this process's expected share. */
  readonly initial: number;
  /** Most slots asked for in one call. */
  readonly batch: number;
  /** Tick period, ms. */
  readonly tickMs: number;
  /** A store call failed (it is retried next tick). */
  readonly onError?: (err: unknown) => void;
}

export class SlotLease {
  readonly #gate: ConcurrencyGate;
  readonly #store: SharedLimitStore;
  readonly #o: SlotLeaseOptions;
  #held = 0;
  #fairShare: number;
  #ballast: Permit | undefined;
  #busy = false;
  #ticks = 0;
  #timer: NodeJS.Timeout | undefined;
  #retired = false;
  /** The gate's capacity refusals counted at the last tick. */
  #refused = 0;
  /** The tick at which this process last had demand (callers waiting or refused). */
  #lastDemand = -Infinity;

  constructor(gate: ConcurrencyGate, store: SharedLimitStore, options: SlotLeaseOptions) {
    this.#gate = gate;
    this.#store = store;
    this.#o = options;
    this.#fairShare = options.limit;
  }

  /** Slots this process holds. */
  get held(): number {
    return this.#held;
  }

  get fairShare(): number {
    return this.#fairShare;
  }

  /** Take the first share, before the gate serves anyone; then tick. */
  async start(): Promise<void> {
    // Nothing may be admitted above what is leased: the gate's one slot is ballast until the grant.
    this.#gate.setLimit(1);
    const a = this.#gate.admit({});
    if (!(a instanceof Promise) && a.ok) this.#ballast = a;
    this.#refused = this.#capacityRefusals();
    const g = await this.#store.takeSlots(this.#o.name, this.#o.limit, this.#o.initial);
    this.#fairShare = g.fairShare;
    this.#add(g.granted);
    this.#timer = setInterval(() => this.#tick(), this.#o.tickMs);
    this.#timer.unref();
  }

  /**
   * The gate was retired by a reload: give every slot back as its in-flight requests end,
   * then stop.
   */
  retire(): void {
    this.#retired = true;
  }

  /** Stop ticking and give back every slot (the process is stopping). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    const n = this.#held;
    this.#held = 0;
    if (n > 0) await this.#store.returnSlots(this.#o.name, n);
  }

  #add(granted: number): void {
    if (granted <= 0) return;
    this.#held += granted;
    this.#gate.setLimit(this.#held);
    if (this.#ballast !== undefined) {
      // Limit first, then the ballast out: never more admissible than held.
      const b = this.#ballast;
      this.#ballast = undefined;
      b.release('ignored');
    }
  }

  #tick(): void {
    if (this.#busy) return;
    const gate = this.#gate;
    const inFlight = gate.inFlight - (this.#ballast === undefined ? 0 : 1);
    const refusedNow = this.#capacityRefusals();
    const demand = gate.queued + (refusedNow - this.#refused);
    this.#refused = refusedNow;
    const tick = this.#ticks++;
    if (demand > 0) this.#lastDemand = tick;
    // Demand is sampled at ticks: a closed-loop client's queue is empty for an instant after
    // every response. A process that had demand within the last RECENT_TICKS keeps its fair
    // share instead of giving idle slots back at each such instant and asking for them again
    // one IPC round trip later (2 workers, 100 connections: 24 of 50 slots held, 60% refused).
    const recent = tick - this.#lastDemand <= RECENT_TICKS;
    const floor = this.#retired ? 0 : 1;
    const othersWant = this.#fairShare < this.#o.limit;
    const target = this.#retired ? inFlight : !othersWant ? this.#held : recent ? this.#fairShare : Math.max(floor, inFlight);
    const giveBack = this.#ballast === undefined ? Math.min(this.#held - inFlight, this.#held - Math.max(floor, target)) : 0;
    if (giveBack > 0) {
      this.#held -= giveBack;
      if (this.#held > 0) gate.setLimit(this.#held);
      this.#call(this.#store.returnSlots(this.#o.name, giveBack));
      return;
    }
    if (this.#retired) {
      if (this.#held === 0) clearInterval(this.#timer);
      return;
    }
    // With demand, up to the fair share at once (not only what waits at this instant).
    const want = demand > 0 ? Math.min(Math.max(demand, this.#fairShare - this.#held), this.#o.batch) : 0;
    // Without demand, ask only now and then: to withdraw a demand and to learn the fair share.
    if (want === 0 && !othersWant && tick % 10 !== 0) return;
    // At its fair share while others want slots too, nothing is free to take: every holder
    // holds its share and wants more. Asking every tick then costs a store round trip per
    // tick per process for nothing (2 workers under a retry storm: ~170 lease calls/s each,
    // all granted 0); ask only now and then, to learn when the others' demand has ended.
    if (want > 0 && othersWant && this.#held >= this.#fairShare && tick % ASK_AT_SHARE_TICKS !== 0) return;
    this.#call(
      this.#store.takeSlots(this.#o.name, this.#o.limit, want).then((g) => {
        this.#fairShare = g.fairShare;
        this.#add(g.granted);
      }),
    );
  }

  /** Callers the gate turned away for want of a slot, so far (not for being closed). */
  #capacityRefusals(): number {
    const r = this.#gate.stats().rejected;
    return r.concurrency + r.queue_full + r.queue_timeout;
  }

  #call(p: Promise<unknown>): void {
    this.#busy = true;
    p.then(
      () => (this.#busy = false),
      (err: unknown) => {
        this.#busy = false;
        this.#o.onError?.(err);
      },
    );
  }
}
