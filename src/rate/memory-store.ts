/**
 * The embedded store: per-key algorithm state in one Map, bounded by `maxKeys`, with the hot
 * path one `Map.get` plus an in-place update of a state object of one to three numbers.
 *
 * A quota must survive key churn, so only state that costs nothing to forget is ever
 * forgotten: a state at or after its `idleAt` (refilled to full, a window with no usage)
 * behaves exactly like a fresh one. Each entry keeps its `idleAt`, and
 * - every call looks at the next two entries of a running sweep and drops the idle ones, so
 *   idle keys leave memory by time, O(1) per call;
 * - a new key that finds the table full triggers a full sweep (at most once per
 *   `minTurnoverMs`); if no entry is idle, the new key is refused — never metered, never
 *   stored — with `full: true` (the gate's reason `keys_full`, a 503: the server is over
 *   capacity, not the tenant over its limit), and counted in `keysRefused`. A key already
 *   held is never evicted to make room: a spent quota stays spent.
 * Choose `maxKeys` above the number of keys active within one refill time (or one window).
 */
import { InvalidArgumentError } from '../core/errors.js';
import { optionKeys, optKnownKeys } from '../core/option-keys.js';
import { optInt, optNumber } from '../core/options.js';
import type { RateDecision } from './algorithm.js';
import { algorithmOf } from './algorithms.js';
import type { RatePolicy } from './policy.js';
import type { RateStore } from './store.js';

export interface MemoryStoreOptions {
  /**
   * Most keys held at once. When it is reached, a new key is admitted only once an idle
   * key (a full bucket, an unused window) can be forgotten; live state is never evicted.
   * Integer >= 2 (Infinity: unbounded, not advised for untrusted keys). @default 100000
   */
  readonly maxKeys?: number;
  /**
   * Shortest interval between full sweeps of the table, ms (made when a new key finds it
   * full, or on `prune`). A sweep costs one look per key; between sweeps a full table
   * refuses new keys at O(1). >= 0. @default 1000
   */
  readonly minTurnoverMs?: number;
}

export const MEMORY_STORE_DEFAULTS = { maxKeys: 100_000, minTurnoverMs: 1000 } as const;

const KEYS = optionKeys<MemoryStoreOptions>({ maxKeys: true, minTurnoverMs: true });

interface Entry {
  state: object;
  /** From then on the state is exactly a fresh one: forgetting it changes no decision. */
  idleAt: number;
}

/** Entries the running sweep looks at per call. */
const SWEEP_STEP = 2;

export class MemoryStore implements RateStore {
  readonly maxKeys: number;
  readonly minTurnoverMs: number;
  readonly #map = new Map<string, Entry>();
  #cursor: Iterator<[string, Entry]> | undefined;
  /** No full sweep before then. */
  #sweepAfter = -Infinity;
  /** Earliest idleAt the last full sweep saw among the entries it kept. */
  #nextIdle = Infinity;
  #keysRefused = 0;

  constructor(options: MemoryStoreOptions = {}, optionPrefix = '') {
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidArgumentError('options', 'an object of MemoryStore options', options);
    optKnownKeys('MemoryStore', options, KEYS, optionPrefix);
    this.maxKeys = optInt(`${optionPrefix}maxKeys`, options.maxKeys ?? MEMORY_STORE_DEFAULTS.maxKeys, 2);
    this.minTurnoverMs = optNumber(`${optionPrefix}minTurnoverMs`, options.minTurnoverMs ?? MEMORY_STORE_DEFAULTS.minTurnoverMs, 0);
  }

  get size(): number {
    return this.#map.size;
  }

  /** New keys refused because the table was full of live state (each one a `full` decision). */
  get keysRefused(): number {
    return this.#keysRefused;
  }

  consume(key: string, policy: RatePolicy, cost: number, now: number, maxDelayMs: number): RateDecision {
    const algo = algorithmOf(policy);
    this.#sweepStep(now);
    const e = this.#map.get(key);
    if (e !== undefined && algo.isState(e.state)) {
      const d = algo.step(e.state, policy, cost, now, maxDelayMs);
      // A refusal changes nothing, but under a policy other than the last write's (a rate
      // lowered: a smaller plan) the state may stay distinct from a fresh one for longer.
      e.idleAt = d.allowed ? algo.idleAt(e.state, policy) : Math.max(e.idleAt, algo.idleAt(e.state, policy));
      return d;
    }
    // Unseen key, or its policy changed algorithm: it starts fresh. Store it only if it changed.
    const s = algo.fresh(policy, now);
    const d = algo.step(s, policy, cost, now, maxDelayMs);
    if (!d.allowed) {
      if (e !== undefined) this.#map.delete(key);
      return d;
    }
    if (e !== undefined) {
      e.state = s;
      e.idleAt = algo.idleAt(s, policy);
      return d;
    }
    if (this.#map.size >= this.maxKeys && !this.#makeRoom(now)) {
      this.#keysRefused++;
      const retryAfterMs = Math.max(this.#nextIdle, this.#sweepAfter, now + 1) - now;
      return { allowed: false, delayMs: 0, retryAfterMs, facts: d.facts, full: true };
    }
    this.#map.set(key, { state: s, idleAt: algo.idleAt(s, policy) });
    return d;
  }

  refund(key: string, policy: RatePolicy, cost: number, now: number): void {
    const algo = algorithmOf(policy);
    const e = this.#map.get(key);
    if (e === undefined || !algo.isState(e.state)) return;
    algo.refund(e.state, policy, cost, now);
    e.idleAt = algo.idleAt(e.state, policy);
  }

  /** Units available now for `key` under `policy` (the full capacity for an unknown key). Does not count as a use. */
  available(key: string, policy: RatePolicy, now: number): number {
    const algo = algorithmOf(policy);
    const s = this.#map.get(key)?.state;
    return algo.available(s !== undefined && algo.isState(s) ? s : algo.fresh(policy, now), policy, now);
  }

  delete(key: string): boolean {
    return this.#map.delete(key);
  }

  clear(): void {
    this.#map.clear();
    this.#cursor = undefined;
    this.#sweepAfter = -Infinity;
    this.#nextIdle = Infinity;
  }

  /** Release every idle key without a request (a full sweep; at most once per `minTurnoverMs`). */
  prune(now: number): void {
    this.#makeRoom(now);
  }

  /** The running sweep: a few more entries, idle ones dropped. */
  #sweepStep(now: number): void {
    for (let i = 0; i < SWEEP_STEP; i++) {
      if (this.#cursor === undefined) {
        if (this.#map.size === 0) return;
        this.#cursor = this.#map.entries();
      }
      const r = this.#cursor.next();
      if (r.done === true) {
        this.#cursor = undefined;
        return;
      }
      if (r.value[1].idleAt <= now) this.#map.delete(r.value[0]);
    }
  }

  /** A full sweep, if one is due: drop every idle entry. Whether there is room for a new key. */
  #makeRoom(now: number): boolean {
    if (now >= this.#sweepAfter) {
      let next = Infinity;
      for (const [k, e] of this.#map) {
        if (e.idleAt <= now) this.#map.delete(k);
        else if (e.idleAt < next) next = e.idleAt;
      }
      this.#nextIdle = next;
      this.#sweepAfter = now + this.minTurnoverMs;
    }
    return this.#map.size < this.maxKeys;
  }
}
