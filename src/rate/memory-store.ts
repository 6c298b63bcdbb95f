/**
 * The embedded store: per-key algorithm state in a {@link GenerationalMap}, so memory is
 * bounded by `maxKeys` whatever the key stream, and the hot path is one `Map.get` plus an
 * in-place update of a state object of one to three numbers.
 *
 * Idle keys leave memory by time as well as by size. A state at or after its `idleAt`
 * (full refill) is exactly a fresh one, so dropping it changes no decision. The store
 * tracks, per generation, the latest `idleAt` of every state touched in it; once that time
 * has passed (and at least `minTurnoverMs` since the last turnover), the old generation
 * holds only idle states and is dropped whole — O(1), no scan. Turnovers happen on calls;
 * call {@link MemoryStore.prune} to release memory while no traffic comes.
 *
 * Size-driven turnover is LRU eviction: a key evicted while not idle comes back with a
 * full bucket. Choose `maxKeys` above the number of keys active within one refill time.
 */
import { optInt, optNumber } from '../core/options.js';
import type { RateDecision } from './algorithm.js';
import { algorithmOf } from './algorithms.js';
import { GenerationalMap } from './generational-map.js';
import type { RatePolicy } from './policy.js';
import type { RateStore } from './store.js';

export interface MemoryStoreOptions {
  /**
   * Most keys held at once; beyond it the least recently used half is forgotten.
   * Integer >= 2 (Infinity: unbounded, not advised for untrusted keys). @default 100000
   */
  readonly maxKeys?: number;
  /**
   * Shortest interval between time-driven turnovers, ms. Each turnover costs one promotion
   * per active key; idle keys leave within about two of these intervals after their full
   * refill. >= 0. @default 1000
   */
  readonly minTurnoverMs?: number;
}

export const MEMORY_STORE_DEFAULTS = { maxKeys: 100_000, minTurnoverMs: 1000 } as const;

export class MemoryStore implements RateStore {
  readonly maxKeys: number;
  readonly minTurnoverMs: number;
  readonly #map: GenerationalMap<object>;
  /** Latest `idleAt` of any state touched since the last turnover. */
  #idleYoung = -Infinity;
  /** Latest `idleAt` of any state in the old generation: after it, the whole generation is idle. */
  #idleOld = -Infinity;
  #turnedAt = -Infinity;
  #now = -Infinity;

  constructor(options: MemoryStoreOptions = {}, optionPrefix = '') {
    this.maxKeys = optInt(`${optionPrefix}maxKeys`, options.maxKeys ?? MEMORY_STORE_DEFAULTS.maxKeys, 2);
    this.minTurnoverMs = optNumber(`${optionPrefix}minTurnoverMs`, options.minTurnoverMs ?? MEMORY_STORE_DEFAULTS.minTurnoverMs, 0);
    this.#map = new GenerationalMap(this.maxKeys, () => {
      this.#idleOld = this.#idleYoung;
      this.#idleYoung = -Infinity;
      this.#turnedAt = this.#now;
    });
  }

  get size(): number {
    return this.#map.size;
  }

  consume(key: string, policy: RatePolicy, cost: number, now: number, maxDelayMs: number): RateDecision {
    const algo = algorithmOf(policy);
    this.#now = now;
    if (now - this.#turnedAt >= this.minTurnoverMs && now >= this.#idleOld) this.#map.turnover();
    let s = this.#map.get(key);
    let d: RateDecision;
    if (s !== undefined && algo.isState(s)) {
      d = algo.step(s, policy, cost, now, maxDelayMs);
    } else {
      // Unseen key, or its policy changed algorithm: it starts fresh. Store it only if it changed.
      const stale = s !== undefined;
      s = algo.fresh(policy, now);
      d = algo.step(s, policy, cost, now, maxDelayMs);
      if (!d.allowed) {
        if (stale) this.#map.delete(key);
        return d;
      }
      this.#map.set(key, s);
    }
    const idle = algo.idleAt(s, policy);
    if (idle > this.#idleYoung) this.#idleYoung = idle;
    return d;
  }

  refund(key: string, policy: RatePolicy, cost: number, now: number): void {
    const algo = algorithmOf(policy);
    this.#now = now;
    const s = this.#map.get(key);
    if (s === undefined || !algo.isState(s)) return;
    algo.refund(s, policy, cost, now);
    const idle = algo.idleAt(s, policy);
    if (idle > this.#idleYoung) this.#idleYoung = idle;
  }

  /** Units available now for `key` under `policy` (the full capacity for an unknown key). Does not count as a use. */
  available(key: string, policy: RatePolicy, now: number): number {
    const algo = algorithmOf(policy);
    const s = this.#map.peek(key);
    return algo.available(s !== undefined && algo.isState(s) ? s : algo.fresh(policy, now), policy, now);
  }

  delete(key: string): boolean {
    return this.#map.delete(key);
  }

  clear(): void {
    this.#map.clear();
    this.#idleYoung = this.#idleOld = this.#turnedAt = -Infinity;
  }

  /** Release idle keys without a request: the time-driven turnover `consume` would do at `now`. */
  prune(now: number): void {
    this.#now = now;
    if (now - this.#turnedAt >= this.minTurnoverMs && now >= this.#idleOld) this.#map.turnover();
  }
}
