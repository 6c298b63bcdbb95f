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
 *   and a tick comes at once when the store says another holder wants slots (watchSlots);
 * - gives back idle slots when others want some: above its fair share while its own
 *   callers wait, above what it uses (at least 1) while none do — and its last one too once
 *   it has had no demand for RECENT_TICKS and nothing is in flight: a limit smaller than the
 *   number of processes sharing it (concurrency 1 on two workers, or gateways on several
 *   hosts sharing a small limit through a store) must not park a slot, idle for good, in a
 *   process nobody asks, while another refuses for want of it (hostile-3 H3).
 * A slot goes back only after the local limit was lowered below it (so it is idle and
 * stays idle); a slot comes in only after the store counted it as this process's.
 *
 * The local gate never has limit 0: with nothing leased (the first take found every slot
 * held elsewhere, or the store did not answer it), the lease itself holds the gate's one slot
 * as ballast until a grant — taken at once, past callers already waiting and work still
 * running (ConcurrencyGate.hold), so nothing is admitted on a slot not leased.
 *
 * Every call tells the store the work this process runs (`inUse`): a store that lost its lease
 * data (Redis restarted empty, a failover) puts back the leases that work runs on even above
 * the limit, and leases the work admitted while it was away. While its answer counts more
 * leases than the limit (`used`), the gate admits on what is held less that excess, and the
 * slots its work frees go back rather than to the next caller here — or the excess would
 * last as long as a queue does.
 *
 * While the store is away (`storeAway`) the lease asks nothing and keeps what it holds, and
 * the gate follows the store's failure mode: 'closed' refuses every caller `store_unavailable`
 * (the outage is neither the callers' doing nor a full limit); 'open' and 'local' admit up to
 * a limit of their own, leased or not (the whole limit; this process's share of it, less what
 * the others held above their shares at the store's last answer).
 */
import type { Permit } from '../core/types.js';
import type { ConcurrencyGate } from '../concurrency/concurrency-gate.js';
import type { SharedLimitStore, SlotGrant, SlotUse } from './limit-store.js';
import type { SlotLeaseOptions, StoreAway } from './slot-lease-options.js';

export type { SlotLeaseOptions, SlotYielder, StoreAway } from './slot-lease-options.js';

/** Ticks after its last demand during which a process keeps its fair share. */
const RECENT_TICKS = 20;
/** Ticks between asks of a process that holds its fair share while others want slots. */
const ASK_AT_SHARE_TICKS = 10;

export class SlotLease {
  readonly #gate: ConcurrencyGate;
  readonly #store: SharedLimitStore;
  readonly #o: SlotLeaseOptions;
  #held = 0;
  #fairShare: number;
  #ballast: Permit | undefined;
  /** Leases the store counted above the limit at its last answer, less those given back since. */
  #over = 0;
  /** Leases the store counted, every holder's, at its last answer (undefined: it does not say). */
  #used: number | undefined;
  /** The most the gate may admit on while others want slots (#fit), set at each answer. */
  #cap = Infinity;
  #busy = false;
  #ticks = 0;
  #timer: NodeJS.Timeout | undefined;
  #retired = false;
  /** Retired, its gate's place given to a successor (retire): the successor counts its work, and its queue went there. */
  #handedOver = false;
  /** The gate's capacity refusals counted at the last tick. */
  #refused = 0;
  /** The tick at which this process last had demand (callers waiting or refused). */
  #lastDemand = -Infinity;
  /** Set while the store is away (storeAway). */
  #away: StoreAway | undefined;
  /** Stops the store's word that another holder wants slots (watchSlots). */
  #unwatch: (() => void) | undefined;
  /** Slots free or idle at the other holders at the last grant, when the store tells (SlotGrant.idleElsewhere). */
  #idleElsewhere: number | undefined;
  /** The store's running total of slots it asked this process to give up, as last received (SlotUse.asked). */
  #asked = 0;
  /** The lease that took this retired one over (adopt). */
  #adopter: SlotLease | undefined;
  /** stop() was called: no timer starts, and a grant still on its way goes back with the rest. */
  #stopped = false;
  /** The store call out (start's, or a tick's), settled either way: stop() waits for its answer. */
  #pending: Promise<void> | undefined;

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

  /**
   * Whether `units` more slots could come to this process from the store soon: it holds fewer
   * than it may hold by at least that many — the whole limit while nobody else wants slots,
   * else its fair share — and, when the store tells, as many were free or idle at the other
   * holders at the last grant: with every other slot in use, nobody waiting there (its fair
   * share the whole limit), none would come, and callers waited out their budget where they
   * were refused at once without leases. See {@link leaseRoom}.
   */
  roomComing(units: number): boolean {
    if (this.#retired || this.#away !== undefined || this.#timer === undefined) return false;
    if (this.#idleElsewhere !== undefined && units > this.#idleElsewhere) return false;
    return this.#held + units <= Math.min(this.#fairShare, this.#o.limit);
  }

  /** Take the first share, before the gate serves anyone; then tick. */
  async start(): Promise<void> {
    // Nothing may be admitted above what is leased: the gate's one slot is ballast until the grant.
    this.#takeBallast();
    this.#refused = this.#capacityRefusals();
    // A store away at start is not fatal: the ballast holds until a tick's call is granted.
    await (this.#pending = this.#store.takeSlots(this.#o.name, this.#o.limit, this.#o.initial).then(
      (g) => this.#answered(g),
      (err: unknown) => this.#o.onError?.(err),
    ));
    // Stopped meanwhile: it gave back what that call granted, and never ticks.
    if (this.#stopped) return;
    this.#timer = setInterval(() => this.#tick(), this.#o.tickMs);
    this.#timer.unref();
    // Told that another holder waits for slots: give back the idle ones now, not at the next poll.
    // Asked to give some up (its callers wait, none is free): the slots freed go back at a tick, as idle ones do.
    this.#unwatch = this.#store.watchSlots?.(
      this.#o.name,
      (fairShare) => {
        if (this.#timer === undefined) return;
        this.#fairShare = fairShare;
        this.#tick();
      },
      (asked) => this.#yield(asked),
    );
  }

  /**
   * The store's running total of slots asked of this process is `asked`: give up the new ones (as
   * many as can be). Retired too: its work still holds its slots, and the store asks each caller's
   * slot once — an ask dropped here left a caller at another holder waiting for as long as this
   * work ran. The slots freed go back at a tick, as its other freed ones do.
   */
  #yield(asked: number): void {
    const n = asked - this.#asked;
    if (n <= 0) return;
    this.#asked = asked;
    if (this.#timer === undefined || this.#away !== undefined) return;
    this.#o.yielder?.yieldSlots(this.#gate, n);
  }

  /** What this process tells the store of its callers and of what could give its slots up. */
  #use(): SlotUse | undefined {
    const y = this.#o.yielder?.yieldable(this.#gate);
    return y === undefined ? undefined : { waiting: this.#gate.queued, yieldable: y.now, freeing: y.freeing, asked: this.#asked };
  }

  /**
   * The gate was retired by a reload: give every slot back as its in-flight requests end,
   * then stop. `handedOver`: the gate gave its place to a successor (ConcurrencyGate.handOver),
   * which counts what is in flight here as its own: the ballast goes, or it would hold one of
   * the successor's slots for ever.
   */
  retire(handedOver = false): void {
    this.#retired = true;
    this.#handedOver = handedOver;
    if (handedOver) this.#dropBallast();
  }

  /** Whether it still ticks: started, and not stopped nor done (retired, nothing held, nobody waiting). */
  get live(): boolean {
    return this.#timer !== undefined;
  }

  /**
   * Before start(), take over `retired`, a lease of this name in this process whose work still
   * runs (a policy a reload removed, brought back under its name), its gate handed to this one's
   * (ConcurrencyGate.handOver): its slots and count of asks become this lease's; it stops, giving
   * nothing back. The store has one holding per name and process: fed by both, it took the old
   * slots for idle and the old asks for slots still being given up, and a caller waiting
   * elsewhere got no slot from here (metricspush).
   */
  adopt(retired: SlotLease): void {
    retired.#adopter = this; // a grant still on its way to it comes here
    retired.#dropBallast(); // its count went to the successor gate with handOver
    this.#held += retired.#held;
    this.#asked = Math.max(this.#asked, retired.#asked);
    retired.#held = 0;
    clearInterval(retired.#timer);
    retired.#timer = undefined;
    retired.#unwatch?.();
  }

  /**
   * The store is away (`away`), or back (`undefined`). Meanwhile the lease asks nothing (a call
   * could only fail) and keeps what it holds; the gate refuses every caller
   * `store_unavailable` (`{ refuseMs }`, 'closed'), or admits up to `{ limit }` leased or not
   * ('open', 'local'). Back, the gate admits on leases again: the work admitted meanwhile runs
   * on, and the limit in force is what is leased (the ballast, when nothing is).
   */
  storeAway(away: StoreAway | undefined): void {
    const was = this.#away;
    this.#away = away;
    this.#gate.storeUnavailable(away !== undefined && 'refuseMs' in away ? away.refuseMs : undefined);
    if (away !== undefined && 'limit' in away) {
      this.#over = 0;
      // The others' work on leases above their own limit runs on: admitting up to the whole of
      // this one beside it would put more in flight than the shared limit (held 11 and 9 of 20,
      // two shares of 10: 21) for as long as that work runs — a bound kept for the outage, as
      // nothing tells when it ended. At least 1.
      const othersOver = away.others === undefined || this.#used === undefined ? 0 : Math.max(0, this.#used - this.#held - away.others);
      this.#gate.setLimit(Math.max(1, away.limit - othersOver));
      this.#dropBallast();
    } else if (away === undefined && was !== undefined && 'limit' in was) {
      // The work admitted meanwhile runs on: it is leased at the next call (`inUse`).
      this.#fit();
    }
  }

  /**
   * Stop ticking and give back every slot (the process is stopping) — those a call still out
   * grants too: it waits for that answer (every store call settles), or they stayed leased, a
   * Redis store renewing them for as long as it was open. Idempotent.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unwatch?.();
    await this.#pending;
    const n = this.#held;
    this.#held = 0;
    if (n > 0) await this.#store.returnSlots(this.#o.name, n);
  }

  /** Hold the gate's one slot (limit 1), past any waiter and work in flight, so that nothing is admitted unleased. */
  #takeBallast(): void {
    this.#gate.setLimit(1);
    this.#ballast ??= this.#gate.hold();
  }

  /**
   * The gate's limit: what is held less what the store counts over the limit, at most the fair
   * share while others want slots; none of it (the ballast) when that is nothing — retired too,
   * for the callers still queued in its gate: left at its last limit (the outage's local one, or
   * one of slots since lost), it admitted them on slots it did not hold. Not a gate handed over:
   * its successor counts its work and took its queue. Limit first, then the ballast out: never
   * more admissible than held.
   */
  #fit(): void {
    const room = Math.min(this.#held - this.#over, this.#cap);
    if (room > 0) {
      this.#gate.setLimit(room);
      this.#dropBallast();
    } else if (!this.#handedOver) this.#takeBallast();
  }

  /** A grant: slots lost since the last call (the store says it counts fewer) go first, then the new ones come in. */
  #answered(g: SlotGrant): void {
    if (this.#adopter !== undefined) return this.#adopter.#answered(g);
    if (this.#stopped) {
      // Counted, to go back with the rest (stop() waits for this answer); the gate admits on none of it.
      this.#held += Math.max(0, g.granted);
      return;
    }
    this.#fairShare = g.fairShare;
    this.#idleElsewhere = g.idleElsewhere;
    const lost = g.held === undefined ? 0 : Math.min(this.#held, this.#held + g.granted - g.held);
    if (this.#away !== undefined) {
      // A call answered as the store went away: counted; the gate follows the failure mode until it is back.
      this.#held += g.granted - Math.max(0, lost);
      return;
    }
    if (lost > 0) {
      // Admitting on them would put more in flight than the limit, across holders.
      this.#held -= lost;
      this.#o.onError?.(new Error(`${lost} leased slots of ${this.#o.name} were lost (expired before their renewal; others hold them now)`));
    }
    this.#held += Math.max(0, g.granted);
    this.#over = g.used === undefined ? 0 : Math.max(0, g.used - this.#o.limit);
    this.#used = g.used;
    this.#cap = this.#capAbove(g);
    this.#fit();
  }

  /**
   * While others want slots, no more than the fair share (at least 1) — less only what the
   * others lack of theirs: a slot freed above it stays idle and goes back at the next tick.
   * Handed to a caller waiting here, it was never idle at a tick while the queue lasted, and an
   * uneven split (7 and 3 of 10 after an outage) lasted as long as the load did. Not below what
   * the others can use: the slots a share leaves over (3 holders of 10: 3, 3, 3 and one) would
   * go back and forth, serving nobody.
   */
  #capAbove(g: SlotGrant): number {
    if (this.#fairShare >= this.#o.limit || g.othersShort === undefined) return Infinity;
    return Math.max(1, this.#fairShare, this.#held - g.othersShort);
  }

  #dropBallast(): void {
    const b = this.#ballast;
    if (b === undefined) return;
    this.#ballast = undefined;
    b.release('ignored');
  }

  #tick(): void {
    if (this.#busy || this.#away !== undefined) return;
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
    const othersWant = this.#fairShare < this.#o.limit;
    const floor = this.#retired || (othersWant && !recent && inFlight === 0 && gate.queued === 0) ? 0 : 1;
    const target = this.#retired ? inFlight : !othersWant ? this.#held : recent ? this.#fairShare : Math.max(floor, inFlight);
    // Idle slots above the target go back — and, while the store counts more than the limit, every idle one up to the excess.
    const idle = this.#held - inFlight;
    const giveBack = Math.max(Math.min(idle, this.#held - Math.max(floor, target)), Math.min(idle, this.#over));
    if (giveBack > 0) {
      this.#held -= giveBack;
      this.#over = Math.max(0, this.#over - giveBack);
      // Its last slot given back (nothing in flight, nobody waiting): the gate's one slot is
      // ballast again, so nothing is admitted until a grant.
      this.#fit();
      this.#call(this.#store.returnSlots(this.#o.name, giveBack));
      return;
    }
    // Retired, it asks for slots only for the callers already waiting in its gate (no new ones
    // come): a process holding none at the reload served none of its queue, which waited out
    // its timeout, every caller refused (hostile-10: --workers 2, a policy renamed by SIGHUP).
    if (this.#retired && gate.queued === 0) {
      if (this.#held === 0 && this.#timer !== undefined) {
        clearInterval(this.#timer);
        this.#timer = undefined;
        this.#unwatch?.();
        // Nothing held, nobody waiting, and no caller comes any more: the store may forget the name.
        this.#store.releaseSlots?.(this.#o.name).catch((err: unknown) => this.#o.onError?.(err));
      }
      return;
    }
    // With demand, up to the fair share at once (not only what waits at this instant), at most a
    // batch — or the demand itself, when larger: callers waiting for 24 slots got them 7 a round
    // trip, and a 50 ms queue ran out before the fourth (hostile-24).
    const want = demand > 0 ? Math.min(Math.max(demand, this.#fairShare - this.#held), Math.max(this.#o.batch, demand)) : 0;
    // Without demand, ask only now and then: to withdraw a demand and to learn the fair share.
    if (want === 0 && !othersWant && tick % 10 !== 0) return;
    // At its fair share while others want slots too, nothing is free to take: every holder
    // holds its share and wants more. Asking every tick then costs a store round trip per
    // tick per process for nothing (2 workers under a retry storm: ~170 lease calls/s each,
    // all granted 0); ask only now and then, to learn when the others' demand has ended.
    if (want > 0 && othersWant && this.#held >= this.#fairShare && tick % ASK_AT_SHARE_TICKS !== 0) return;
    const use = this.#use();
    this.#call(
      (use === undefined ? this.#store.takeSlots(this.#o.name, this.#o.limit, want, inFlight) : this.#store.takeSlots(this.#o.name, this.#o.limit, want, inFlight, use)).then((g) => this.#answered(g)),
    );
  }

  /** Callers the gate turned away for want of a slot, so far (not for being closed). */
  #capacityRefusals(): number {
    const r = this.#gate.stats().rejected;
    return r.concurrency + r.queue_full + r.queue_timeout;
  }

  #call(p: Promise<unknown>): void {
    this.#busy = true;
    this.#pending = p.then(
      () => void (this.#busy = false),
      (err: unknown) => {
        this.#busy = false;
        this.#o.onError?.(err);
      },
    );
  }
}
