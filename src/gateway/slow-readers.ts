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
 * - its slot, to a request that wants one: when a request reaches its concurrency gate to find
 *   every slot taken (makeRoom, as the gate is asked: `attend`; the gate is the policy's last, so
 *   a request the shedder, a rate limit or the breaker refuses never gets there — asked before
 *   the policy decided, a 429 cut a slow reader for nobody: review21), and every 50 ms for as many
 *   requests as wait in that gate's queue, the response that has waited longest for its
 *   client is cut off (its client disconnected, the upstream request aborted, the permit
 *   ended 'ignored' at once: the freed slot goes to the request that wanted it). Only one that
 *   has waited at least {@link CUT_AFTER_MS} since its client last took everything pending:
 *   a client that reads at network speed empties its buffer sooner than that, and is not cut
 *   for a moment's backlog.
 * - its connection, to a request waiting for one (hostile finding F27): enough clients reading
 *   slowly (just fast enough to beat `server.writeTimeout`) took every connection, and every
 *   other request to that upstream waited for one. So while requests wait for a connection
 *   to its upstream, the one that has waited longest for its client is cut, every 50 ms as
 *   many as requests wait — only while the pool has all its `maxSockets` connections open:
 *   below that, a waiting request waits for a new connection to be made, not for one a slow
 *   reader holds. (undici counts such a request `pending` while its connection is being
 *   opened; taking that for a full pool cut a slow reader whenever a request opened a new
 *   upstream connection across a sweep — often on a busy machine.)
 */
import type { Pool } from 'undici';
import type { GatewayCounters } from './gateway-counters.js';
import type { RejectionLog } from './rejection-log.js';

/** How often gates and upstreams with waiting requests are looked at, ms. */
const SWEEP_MS = 50;
/** A response whose client took nothing of what is pending for at least this long may be cut for its slot, ms. */
export const CUT_AFTER_MS = 500;

/** What a slot is taken from: a concurrency gate (sluice's ConcurrencyGate). */
export interface SlotGate {
  readonly inFlight: number;
  readonly limit: number;
  readonly queued: number;
}

/** A concurrency gate as its policy's chain asks it. */
export type AskedGate = SlotGate & { admit(...args: never[]): unknown; earlyRefusal?(...args: never[]): unknown };

/** Why a response was cut: its slot went to a request that wanted one, or its connection to one that waited for it. */
export type CutReason = 'slot' | 'connection';

interface Waiting {
  readonly since: number;
  readonly pool: Pool;
  readonly gate: SlotGate | undefined;
  readonly cut: (why: CutReason) => void;
}

export class SlowReaders {
  /** Per upstream pool, responses waiting for their clients, oldest first. */
  readonly #byPool = new Map<Pool, Set<Waiting>>();
  /** Per upstream pool, its connection limit (`maxSockets`). */
  readonly #limits = new Map<Pool, number>();
  /** Per concurrency gate, the responses waiting for their clients that hold one of its slots, oldest first. */
  readonly #byGate = new Map<SlotGate, Set<Waiting>>();
  #timer: NodeJS.Timeout | undefined;
  readonly #onYield: () => void;
  readonly #now: () => number;

  /** Gates whose admit makes room first (`attend`). */
  readonly #attended = new WeakSet<object>();

  /** `onYield`: a response was cut to free a connection (for the counters). `now`: the clock, ms. */
  constructor(onYield: () => void = () => undefined, now: () => number = () => performance.now()) {
    this.#onYield = onYield;
    this.#now = now;
  }

  /**
   * A response on `pool` (at most `connections` connections) waits for its client, holding a
   * slot of `gate` (undefined: none); `cut` ends it. Returns the call that says it stopped waiting.
   */
  waiting(pool: Pool, connections: number, gate: SlotGate | undefined, cut: (why: CutReason) => void): () => void {
    const w: Waiting = { since: this.#now(), pool, gate, cut };
    let set = this.#byPool.get(pool);
    if (set === undefined) this.#byPool.set(pool, (set = new Set()));
    this.#limits.set(pool, connections);
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

  /**
   * A request wants a slot of `gate`: if none is free, cut the response holding one that has
   * waited longest for its client (at least CUT_AFTER_MS), its slot free when this returns.
   * True when one was cut.
   */
  makeRoom(gate: SlotGate): boolean {
    if (gate.inFlight < gate.limit) return false;
    return this.#cutOldest(gate, this.#now() - CUT_AFTER_MS);
  }

  /**
   * From now on, each time `gate` is asked for a slot, room is made first (makeRoom). Its early
   * refusal (asked before the policy's other gates: a queue wait too long) is not given while a
   * slow reader's slot can be taken: admit() decides, with the room made. Once per gate.
   */
  attend(gate: AskedGate): void {
    if (this.#attended.has(gate)) return;
    this.#attended.add(gate);
    const admit = gate.admit.bind(gate) as (...args: never[]) => unknown;
    gate.admit = (...args: never[]): unknown => {
      this.makeRoom(gate);
      return admit(...args);
    };
    const early = gate.earlyRefusal?.bind(gate) as ((...args: never[]) => unknown) | undefined;
    if (early !== undefined) gate.earlyRefusal = (...args: never[]): unknown => (this.#cuttable(gate) ? undefined : early(...args));
  }

  /** Whether makeRoom(gate) would cut a response now. */
  #cuttable(gate: SlotGate): boolean {
    if (gate.inFlight < gate.limit) return false;
    for (const w of this.#byGate.get(gate) ?? []) return w.since <= this.#now() - CUT_AFTER_MS;
    return false;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #forget(w: Waiting): void {
    const { pool, gate } = w;
    const s = this.#byPool.get(pool);
    if (s?.delete(w) === true && s.size === 0) {
      this.#byPool.delete(pool);
      this.#limits.delete(pool);
    }
    if (gate !== undefined) {
      const held = this.#byGate.get(gate);
      if (held?.delete(w) === true && held.size === 0) this.#byGate.delete(gate);
    }
    if (this.#byPool.size === 0) this.stop();
  }

  /** Cut the oldest response holding a slot of `gate` that waited since `before` or longer. */
  #cutOldest(gate: SlotGate, before: number): boolean {
    const held = this.#byGate.get(gate);
    if (held === undefined) return false;
    for (const w of held) {
      // Oldest first: none after this one has waited long enough either.
      if (w.since > before) return false;
      this.#forget(w);
      w.cut('slot');
      return true;
    }
    return false;
  }

  #sweep(): void {
    const before = this.#now() - CUT_AFTER_MS;
    for (const gate of [...this.#byGate.keys()]) {
      // As many as wait, at most: each cut lets one waiter in.
      for (let wanted = gate.queued; wanted > 0 && gate.inFlight >= gate.limit; wanted--) if (!this.#cutOldest(gate, before)) break;
    }
    for (const [pool, set] of [...this.#byPool]) {
      const stats = pool.stats;
      // Not every connection open yet: the requests that wait get new ones.
      if (stats.connected < (this.#limits.get(pool) ?? Infinity)) continue;
      let wanted = stats.pending;
      for (const w of [...set]) {
        if (wanted <= 0) break;
        wanted--;
        this.#forget(w);
        this.#onYield();
        w.cut('connection');
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
