/**
 * The embedded store: per-key algorithm state in one Map, bounded by `maxKeys`, with the hot
 * path one `Map.get` plus an in-place update of a state object of one to three numbers.
 *
 * Forgetting idle state: a state at or after its `idleAt` (refilled to full, a window with no
 * usage) behaves exactly like a fresh one. Entries sit in a min-heap by (a lower bound of)
 * `idleAt`; every call looks at the top twice and drops it if idle, so idle keys leave memory
 * by time at O(log n) per call.
 *
 * A full table (the Space-Saving idea, Metwally et al. 2005, for states that refill): a new key
 * that finds `maxKeys` live entries evicts the one that goes idle first — with one policy, the
 * least used — and that entry's state is folded into the *floor* of its policy: one state per
 * policy (same algorithm and numbers) at least as used as every key evicted under it, refilling
 * like them (`RateAlgorithm.cover`). A key not held starts from its policy's floor while the
 * floor is not idle, fresh otherwise. So:
 * - no key is ever admitted more than its policy allows: a key evicted and back starts from a
 *   floor above its own state (usage is over-estimated, never under-estimated);
 * - an honest new key is charged at most the floor: the usage of the most used key evicted
 *   under its policy that is not yet idle, each of them the first to go idle when it went. With
 *   keys of one policy, that is at most the total units admitted within one refill time (one
 *   window) divided by `maxKeys` — an attacker must spend `maxKeys` × burst units per refill
 *   time to charge newcomers a whole burst;
 * - a new key refused only because of its floor is refused `full` (the gate's `keys_full`,
 *   503: the store cannot tell it from a key it forgot, so it is not proven over its limit),
 *   unmetered and not stored, with the floor's Retry-After; counted in `keysRefused`.
 * Floors are kept for at most MAX_FLOORS policies at once; a new key whose eviction would need
 * one more (a table holding keys of more live policies than that) is refused `full` too.
 *
 * A key longer than MAX_HELD_KEY_LENGTH (1024) is held under its SHA-256 (held-key.ts), by every
 * method alike: a caller's key of any length costs at most about a kilobyte while it is held.
 */
import { InvalidArgumentError } from '../core/errors.js';
import { optionKeys, optKnownKeys } from '../core/option-keys.js';
import { IndexedHeap } from '../core/indexed-heap.js';
import type { HeapNode } from '../core/indexed-heap.js';
import { optInt, optNumber } from '../core/options.js';
import type { RateDecision } from './algorithm.js';
import { algorithmOf } from './algorithms.js';
import { heldKey } from './held-key.js';
import type { RatePolicy } from './policy.js';
import type { RateStore } from './store.js';
import { deepFreeze } from '../core/deep-freeze.js';

export interface MemoryStoreOptions {
  /**
   * Most keys held at once. When it is reached, a new key takes the place of the key that goes
   * idle first, and starts from that key's usage or more (see the top of memory-store.ts).
   * Integer >= 2 (Infinity: unbounded, not advised for untrusted keys). @default 100000
   */
  readonly maxKeys?: number;
  /**
   * Shortest interval between tidy-ups by `prune` (idle keys dropped in the heap's order, up to
   * the first that is nearly but not yet idle — see `prune`), ms.
   * Calls drop idle keys by themselves, a few at a time. >= 0. @default 1000
   */
  readonly minTurnoverMs?: number;
}

export const MEMORY_STORE_DEFAULTS = deepFreeze({ maxKeys: 100_000, minTurnoverMs: 1000 } as const);

const KEYS = optionKeys<MemoryStoreOptions>({ maxKeys: true, minTurnoverMs: true });

/**
 * A held key. Its heap key `at` is at or before `rank` (itself at or before `idleAt`), and
 * raised to it lazily, when the entry reaches the heap's top: a call that makes a key more used
 * costs the heap nothing; one that makes it less used (a refund, a clock set back) lowers `at`
 * at once.
 */
interface Entry extends HeapNode {
  /** Heap key: at or before `idleAt` (see above). */
  at: number;
  /** The caller's key as held (heldKey: hashed past MAX_HELD_KEY_LENGTH). */
  readonly key: string;
  /** From then on the state is exactly a fresh one: forgetting it changes no decision. */
  idleAt: number;
  /** The algorithm's rank (eviction order: the earliest goes first). */
  rank: number;
  state: object;
  /** The policy of the last call that wrote the state (an evicted state is folded into its floor). */
  policy: RatePolicy;
}

/** A bound on the states of the keys evicted under one policy. */
interface Floor {
  readonly state: object;
  idleAt: number;
}

/** Heap tops looked at per call (idle ones dropped). */
const TEND_STEP = 2;
/** Stale heap tops brought up to date at most, per eviction, before the top is taken as it is. */
const EVICT_LOOKS = 32;
/** Most policies with a live floor at once. */
export const MAX_FLOORS = 1024;

export class MemoryStore implements RateStore {
  readonly maxKeys: number;
  readonly minTurnoverMs: number;
  readonly #map = new Map<string, Entry>();
  readonly #heap = new IndexedHeap<Entry>((a, b) => a.at < b.at);
  readonly #floors = new Map<string, Floor>();
  readonly #shapes = new WeakMap<RatePolicy, string>();
  /** No full tidy-up by prune before then. */
  #pruneAfter = -Infinity;
  #keysRefused = 0;
  #keysEvicted = 0;

  constructor(options: MemoryStoreOptions = {}, optionPrefix = '') {
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidArgumentError('options', 'an object of MemoryStore options', options);
    optKnownKeys('MemoryStore', options, KEYS, optionPrefix);
    this.maxKeys = optInt(`${optionPrefix}maxKeys`, options.maxKeys ?? MEMORY_STORE_DEFAULTS.maxKeys, 2);
    this.minTurnoverMs = optNumber(`${optionPrefix}minTurnoverMs`, options.minTurnoverMs ?? MEMORY_STORE_DEFAULTS.minTurnoverMs, 0);
  }

  get size(): number {
    return this.#map.size;
  }

  /** New keys refused `full` (keys_full): by their policy's floor, or for want of a floor. */
  get keysRefused(): number {
    return this.#keysRefused;
  }

  /** Live keys evicted to make room for new ones (each folded into its policy's floor). */
  get keysEvicted(): number {
    return this.#keysEvicted;
  }

  /** Policies with a live floor (keys evicted under them whose state is not yet idle). */
  get floors(): number {
    return this.#floors.size;
  }

  consume(callerKey: string, policy: RatePolicy, cost: number, now: number, maxDelayMs: number): RateDecision {
    const algo = algorithmOf(policy);
    this.#tend(now);
    const key = heldKey(callerKey);
    const e = this.#map.get(key);
    if (e !== undefined && algo.isState(e.state)) {
      const d = algo.step(e.state, policy, cost, now, maxDelayMs);
      // A refusal changes nothing, but under a policy other than the last write's (a rate
      // lowered: a smaller plan) the state may stay distinct from a fresh one for longer.
      this.#written(e, d.allowed ? algo.idleAt(e.state, policy) : Math.max(e.idleAt, algo.idleAt(e.state, policy)), algo.rank(e.state, policy));
      e.policy = policy;
      return d;
    }
    if (e !== undefined) {
      // Its policy changed algorithm: it starts fresh. Kept only if that changed it.
      const s = algo.fresh(policy, now);
      const d = algo.step(s, policy, cost, now, maxDelayMs);
      if (!d.allowed) this.#remove(e);
      else {
        e.state = s;
        e.policy = policy;
        this.#written(e, algo.idleAt(s, policy), algo.rank(s, policy));
      }
      return d;
    }
    // Not held: from its policy's floor while one is live, else fresh. Stored only if admitted.
    const floor = this.#floors.size > 0 ? this.#floorOf(policy, now) : undefined;
    const s = floor === undefined ? algo.fresh(policy, now) : { ...floor.state };
    const d = algo.step(s, policy, cost, now, maxDelayMs);
    if (!d.allowed) {
      if (floor === undefined || !algo.step(algo.fresh(policy, now), policy, cost, now, maxDelayMs).allowed) return d;
      this.#keysRefused++;
      return { ...d, full: true };
    }
    if (this.#map.size >= this.maxKeys && !this.#makeRoom(now)) {
      this.#keysRefused++;
      const top = this.#heap.peek();
      const retryAfterMs = Math.max(1, (top === undefined ? now : top.idleAt) - now);
      return { allowed: false, delayMs: 0, retryAfterMs, facts: d.facts, full: true };
    }
    const rank = algo.rank(s, policy);
    const entry: Entry = { key, state: s, policy, at: rank, idleAt: algo.idleAt(s, policy), rank, index: -1 };
    this.#map.set(key, entry);
    this.#heap.push(entry);
    return d;
  }

  refund(key: string, policy: RatePolicy, cost: number, now: number): void {
    const algo = algorithmOf(policy);
    const e = this.#map.get(heldKey(key));
    if (e === undefined || !algo.isState(e.state)) return;
    algo.refund(e.state, policy, cost, now);
    this.#written(e, algo.idleAt(e.state, policy), algo.rank(e.state, policy));
  }

  /** Units available now for `key` under `policy` (what its policy's floor leaves, or the full capacity, for a key not held). Does not count as a use. */
  available(key: string, policy: RatePolicy, now: number): number {
    const algo = algorithmOf(policy);
    const s = this.#map.get(heldKey(key))?.state;
    if (s !== undefined && algo.isState(s)) return algo.available(s, policy, now);
    const floor = this.#floors.size > 0 ? this.#floorOf(policy, now) : undefined;
    return algo.available(floor === undefined ? algo.fresh(policy, now) : floor.state, policy, now);
  }

  /** Forget a key: it is then as any key not held (fresh, or its policy's floor while one is live). */
  delete(key: string): boolean {
    const e = this.#map.get(heldKey(key));
    if (e === undefined) return false;
    this.#remove(e);
    return true;
  }

  clear(): void {
    this.#map.clear();
    this.#heap.clear();
    this.#floors.clear();
    this.#pruneAfter = -Infinity;
  }

  /**
   * Release idle keys and floors without a request (at most once per `minTurnoverMs`), in the
   * heap's (eviction) order. It stops at a top whose rank has passed but that is not idle yet —
   * a sliding window with under one unit left — so idle keys below it stay until it goes idle
   * (at most one window). Memory stays bounded by `maxKeys`, and such a top is the first evicted.
   */
  prune(now: number): void {
    if (now < this.#pruneAfter) return;
    this.#pruneAfter = now + this.minTurnoverMs;
    // Each entry is raised at most once; a top whose rank has passed (nearly idle) ends it.
    for (let top = this.#heap.peek(); top !== undefined && top.at <= now; top = this.#heap.peek()) {
      if (top.idleAt <= now) this.#remove(top);
      else if (top.at < top.rank) this.#raise(top, top.rank);
      else break;
    }
    this.#dropIdleFloors(now);
  }

  #written(e: Entry, idleAt: number, rank: number): void {
    e.idleAt = idleAt;
    e.rank = rank;
    if (rank < e.at) {
      e.at = rank;
      this.#heap.update(e);
    }
  }

  #raise(e: Entry, at: number): void {
    e.at = at;
    this.#heap.update(e);
  }


  #remove(e: Entry): void {
    this.#heap.remove(e);
    this.#map.delete(e.key);
  }

  /**
   * A few heap tops: idle ones dropped, stale ones raised to their rank. A top at its rank and
   * not idle (a window whose rank has passed: under one unit left to forget) stays there — the
   * first to evict — and holds up the others until it is idle, at most one window.
   */
  #tend(now: number): void {
    for (let i = 0; i < TEND_STEP; i++) {
      const top = this.#heap.peek();
      if (top === undefined || top.at > now) return;
      if (top.idleAt <= now) this.#remove(top);
      else if (top.at < top.rank) this.#raise(top, top.rank);
      else return;
    }
  }

  /** Room for one more key: an idle one dropped, or the first to go idle evicted into its floor. */
  #makeRoom(now: number): boolean {
    let looks = EVICT_LOOKS;
    let top = this.#heap.peek()!;
    while (top.idleAt > now && top.at < top.rank && looks-- > 0) {
      this.#raise(top, top.rank);
      top = this.#heap.peek()!;
    }
    if (top.idleAt > now) {
      if (!this.#fold(top, now)) return false;
      this.#keysEvicted++;
    }
    this.#remove(top);
    return true;
  }

  /** Fold an evicted entry's state into its policy's floor; false if there is no room for a new floor. */
  #fold(e: Entry, now: number): boolean {
    const p = e.policy;
    const algo = algorithmOf(p);
    const shape = this.#shapeOf(p);
    let f = this.#floors.get(shape);
    if (f === undefined) {
      if (this.#floors.size >= MAX_FLOORS) this.#dropIdleFloors(now);
      if (this.#floors.size >= MAX_FLOORS) return false;
      this.#floors.set(shape, (f = { state: algo.fresh(p, now), idleAt: now }));
    }
    algo.cover(f.state, e.state, p, now);
    f.idleAt = algo.idleAt(f.state, p);
    return true;
  }

  /** The live floor of `policy`'s shape (an idle one is dropped: a fresh state is as good). */
  #floorOf(policy: RatePolicy, now: number): Floor | undefined {
    const shape = this.#shapeOf(policy);
    const f = this.#floors.get(shape);
    if (f === undefined || f.idleAt > now) return f;
    this.#floors.delete(shape);
    return undefined;
  }

  #dropIdleFloors(now: number): void {
    for (const [shape, f] of this.#floors) if (f.idleAt <= now) this.#floors.delete(shape);
  }

  /** Policies with the same algorithm and numbers share a floor (a worker's policy comes cloned, per call). */
  #shapeOf(p: RatePolicy): string {
    let s = this.#shapes.get(p);
    if (s === undefined) {
      s = p.algorithm === 'sliding-window' ? `sliding-window ${p.limit} ${p.windowMs}` : `${p.algorithm} ${p.rate} ${p.perMs} ${p.burst}`;
      this.#shapes.set(p, s);
    }
    return s;
  }
}
