/**
 * Responses that wait for their clients: what they hold, and who takes it from them.
 *
 * A response relayed at its client's pace, past its buffer (proxy.ts), keeps its upstream
 * waiting: the upstream is still writing it, so it is still in flight there. It keeps its
 * permit (its slot) until the upstream's response is complete — the upstream never sees more
 * than the limit (issue 9; until upin21 the permit ended when the buffer filled, and an
 * upstream counting its own in-flight saw 58 with `--concurrency 50` while slow readers ran).
 * And it holds one of its upstream pool's `maxSockets` connections. Slow readers must not
 * starve everyone else of either, so such a response yields:
 *
 * - its slot, to a request that wants one: the policy's concurrency gate asks this as its
 *   `reclaimer` (sluice's SlotReclaimer) when a request reaches it to find its limit full
 *   (the gate is the policy's last, so a request the shedder, a rate limit or the breaker
 *   refuses never asks: review21), before it queues, is refused, or is refused early for the
 *   queue's wait; and every 50 ms the gates holding such responses are asked to make room for
 *   their waiters (`reclaimForWaiters`). The response that has waited longest for its client
 *   is cut off: its client disconnected, and its upstream request ended as a gone client's
 *   (proxy.ts, leftover.ts): its rest read out and thrown away within a bound, or its upstream
 *   connection closed (at once when its Content-Length says the rest is over the bound), and
 *   then its permit ends 'ignored' — never before the upstream can tell it ended (cutfix).
 *   Responses cut and not yet read out count as room being made: an ask they cover cuts
 *   nobody more, and a request they will make room for is not refused early. Only one that has
 *   waited at least `server.slowReaderCutAfter` (500 ms by default; {@link SlowReaders.cutAfterMs},
 *   set again on reload) since its client last took everything pending: a client that reads
 *   at network speed empties its buffer sooner than that, and is not cut for a moment's backlog. After a reload the gate that replaced a policy's gate asks for
 *   room among the slots its predecessor's requests still hold (they count against it).
 *   With workers, the slots are leased by the primary, and a request may wait on a worker that
 *   holds none: the primary asks the worker whose slow readers hold slots above its share to cut
 *   one per such request (`yieldSlots`, SlotYielder; lease-ledger.ts), counting from what each
 *   worker reports of them (`yieldable`); the slot goes back through the lease.
 * - its connection, to a request waiting for one (hostile finding F27): enough clients reading
 *   slowly (just fast enough to beat `server.writeTimeout`) took every connection, and every
 *   other request to that upstream waited for one. So while requests wait for a connection
 *   to its upstream, the one that has waited longest for its client is cut, every 50 ms as
 *   many as requests wait, less those cut and still being read out. A request waits in the pool (upstream-pool.ts) only when each of its
 *   `maxSockets` connections has a request: one being given a new connection does not count.
 *   (undici's Pool counted such a request `pending` while its connection was being opened;
 *   taking that for a full pool cut a slow reader whenever a request opened a new upstream
 *   connection across a sweep — often on a busy machine.)
 */
import type { ReclaimAsk, SlotGate, SlotReclaimer } from '../concurrency/concurrency-gate.js';
import type { SlotYielder } from '../shared/slot-lease.js';
import type { GatewayCounters } from './gateway-counters.js';
import type { RejectionLog } from './rejection-log.js';
import type { UpstreamPool } from './upstream-pool.js';

/** How often gates and upstreams with waiting requests are looked at, ms. */
const SWEEP_MS = 50;

/** Why a response was cut: its slot went to a request that wanted one, or its connection to one that waited for it. */
export type CutReason = 'slot' | 'connection';

interface Waiting {
  readonly since: number;
  readonly pool: UpstreamPool;
  readonly gate: SlotGate | undefined;
  /** Cut it; it calls `freed` when its permit has ended and its connection is free. */
  readonly cut: (why: CutReason, freed: () => void) => void;
}

export class SlowReaders implements SlotReclaimer, SlotYielder {
  /** Per upstream pool, responses waiting for their clients, oldest first. */
  readonly #byPool = new Map<UpstreamPool, Set<Waiting>>();
  /** Per concurrency gate, the responses waiting for their clients that hold one of its slots, oldest first. */
  readonly #byGate = new Map<SlotGate, Set<Waiting>>();
  /** Cut, and not yet freed: the rest of their responses is being read out. */
  readonly #freeing = new Set<Waiting>();
  /** In a sweep's reclaimForWaiters: the units its waiters asked for so far, and those its cuts freed at once (one read out serves nobody yet). */
  #sweepTally: { asked: number; freed: number } | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #onYield: () => void;
  readonly #now: () => number;
  /**
   * A response whose client took nothing of what is pending for at least this long may be cut
   * for its slot, ms (`server.slowReaderCutAfter`). The gateway sets it again on reload: it is
   * read at each ask, so a reload applies to the responses already waiting too.
   */
  cutAfterMs: number;

  /** `cutAfterMs`: see the field. `onYield`: a response was cut to free a connection (for the counters). `now`: the clock, ms. */
  constructor(cutAfterMs: number, onYield: () => void = () => undefined, now: () => number = () => performance.now()) {
    this.cutAfterMs = cutAfterMs;
    this.#onYield = onYield;
    this.#now = now;
  }

  /**
   * A response on `pool` waits for its client, holding a slot of `gate` (undefined: none);
   * `cut` ends it. Returns the call that says it stopped waiting.
   */
  waiting(pool: UpstreamPool, gate: SlotGate | undefined, cut: (why: CutReason, freed: () => void) => void): () => void {
    const w: Waiting = { since: this.#now(), pool, gate, cut };
    let set = this.#byPool.get(pool);
    if (set === undefined) this.#byPool.set(pool, (set = new Set()));
    set.add(w);
    if (gate !== undefined) {
      let held = this.#byGate.get(gate);
      if (held === undefined) this.#byGate.set(gate, (held = new Set()));
      held.add(w);
    }
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), SWEEP_MS);
      this.#timer.unref();
    }
    return () => this.#forget(w);
  }

  /** SlotReclaimer: whether a slot of `ask.gates` is being freed (a cut read out), or a response holding one has waited long enough to be cut. */
  reclaimable(ask: ReclaimAsk): boolean {
    // Asked at every early refusal: with no response holding a slot, no clock read.
    if (this.#byGate.size === 0 && this.#freeing.size === 0) return false;
    return this.#freeingOf(ask.gates) > 0 || this.#oldest(ask.gates, this.#now() - this.cutAfterMs) !== undefined;
  }

  /**
   * SlotReclaimer: cut the responses that have waited longest (at least cutAfterMs) until
   * `ask.units` (in a sweep, every waiter's so far) are being freed, counting those cut before
   * and still read out. Their slots are free once read out: the gate's waiters get them then.
   */
  reclaim(ask: ReclaimAsk): boolean {
    const before = this.#now() - this.cutAfterMs;
    const tally = this.#sweepTally ?? { asked: 0, freed: 0 };
    tally.asked += ask.units;
    let cut = 0;
    // Each cut is one unit freed at once, or one being freed: it stays in #freeing meanwhile.
    while (tally.freed + this.#freeingOf(ask.gates) < tally.asked) {
      const w = this.#oldest(ask.gates, before);
      if (w === undefined) break;
      cut++;
      if (this.#cut(w, 'slot')) tally.freed++;
    }
    return cut > 0;
  }

  /** SlotYielder: the responses holding a slot of `gate` that could be cut now (waited at least cutAfterMs), and those cut and still read out. */
  yieldable(gate: SlotGate): { now: number; freeing: number } {
    const before = this.#now() - this.cutAfterMs;
    let now = 0;
    // Oldest first: the first that has not waited long enough ends the count.
    for (const w of this.#byGate.get(gate) ?? []) {
      if (w.since > before) break;
      now++;
    }
    return { now, freeing: this.#freeingOf([gate]) };
  }

  /**
   * SlotYielder: cut `n` more of the responses holding a slot of `gate` that have waited
   * longest (at least cutAfterMs), for requests waiting on other workers (the primary asks,
   * slot-lease.ts): their slots go back to it once read out. How many were cut.
   */
  yieldSlots(gate: SlotGate, n: number): number {
    const before = this.#now() - this.cutAfterMs;
    let cut = 0;
    for (; cut < n; cut++) {
      const w = this.#oldest([gate], before);
      if (w === undefined) break;
      this.#cut(w, 'slot');
    }
    return cut;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Cut `w`: it counts as room being made until it says it is freed. Whether it was freed at once. */
  #cut(w: Waiting, why: CutReason): boolean {
    this.#forget(w);
    this.#freeing.add(w);
    w.cut(why, () => this.#freeing.delete(w));
    return !this.#freeing.has(w);
  }

  /** Responses cut and not yet freed that hold a slot of one of `gates`. */
  #freeingOf(gates: readonly SlotGate[]): number {
    let n = 0;
    for (const w of this.#freeing) if (w.gate !== undefined && gates.includes(w.gate)) n++;
    return n;
  }

  #forget(w: Waiting): void {
    const { pool, gate } = w;
    const s = this.#byPool.get(pool);
    if (s?.delete(w) === true && s.size === 0) this.#byPool.delete(pool);
    if (gate !== undefined) {
      const held = this.#byGate.get(gate);
      if (held?.delete(w) === true && held.size === 0) this.#byGate.delete(gate);
    }
    if (this.#byPool.size === 0) this.stop();
  }

  /** The response holding a slot of one of `gates` that has waited longest, if since `before` or longer. */
  #oldest(gates: readonly SlotGate[], before: number): Waiting | undefined {
    let oldest: Waiting | undefined;
    for (const g of gates) {
      // Each set is oldest first: its first is its candidate.
      for (const w of this.#byGate.get(g) ?? []) {
        if (w.since <= before && (oldest === undefined || w.since < oldest.since)) oldest = w;
        break;
      }
    }
    return oldest;
  }

  #sweep(): void {
    // Each gate (or the gate that took its place) makes room for its waiters, asking reclaim() above.
    for (const gate of [...this.#byGate.keys()]) {
      this.#sweepTally = { asked: 0, freed: 0 };
      try {
        gate.reclaimForWaiters();
      } finally {
        this.#sweepTally = undefined;
      }
    }
    for (const [pool, set] of [...this.#byPool]) {
      // A request waits only when every one of the pool's connections has a request; one cut and still read out frees one.
      let wanted = pool.waiting;
      for (const w of this.#freeing) if (w.pool === pool) wanted--;
      for (const w of [...set]) {
        if (wanted <= 0) break;
        wanted--;
        this.#onYield();
        this.#cut(w, 'connection');
      }
    }
  }
}

/** A slow client's response outgrew its buffer, was cut for its slot (counted, and logged per burst in `cuts`), or its client was cut for not reading. */
export function countSlowReader(c: GatewayCounters, cuts: RejectionLog, route: string, what: 'held' | 'cut' | 'write-timeout'): void {
  if (what === 'held') c.slowReadersHeld++;
  else if (what === 'write-timeout') c.writeTimeouts++;
  else {
    c.slowReadersCut++;
    cuts.count(route, 'slow_reader', 200);
  }
}
