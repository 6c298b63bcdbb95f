/**
 * The keys a store's probe writes in a Redis Cluster: one per master that may hold the store's
 * keys. A single `<keyPrefix>probe` lands on one master: with another master full (OOM),
 * read-only or gone while the cluster still serves the rest (cluster-require-full-coverage
 * no, or before cluster-node-timeout), the probe said the store was back, the decisions on that
 * master's slots failed again, and health flapped between shared and fallback — or, the probe's
 * own master refusing, the store stayed in its failure mode while every limit's master took
 * writes. The store's health is one for all its keys (store-guard.ts), so it is shared only
 * when every master takes a write.
 */
import { keySlot } from './keys.js';

/** Candidate keys tried at most, over the store's life (a master of one slot is found in about 16,384). */
const MAX_TRIES = 200_000;
/**
 * Candidate keys tried per probe at most: a master of a few slots is found over several probes
 * (probed from then on) rather than in one loop of tens of milliseconds on the event loop.
 */
const TRIES_PER_CALL = 4_096;
/** Tries after which a key prefix whose keys all land in one slot (a hash tag in it) is taken as such. */
const PINNED_TRIES = 64;

/** Keys `<keyPrefix>probe:{<n>}` found so far, by the slot they hash to; tried in order of n, once each. */
export class ProbeKeys {
  readonly #single: string;
  readonly #prefix: string;
  readonly #bySlot = new Map<number, string>();
  #tried = 0;

  constructor(keyPrefix: string) {
    this.#prefix = keyPrefix;
    this.#single = `${keyPrefix}probe`;
  }

  /** The one key of a single Redis. */
  get single(): string {
    return this.#single;
  }

  /**
   * One key per master of `slots` (ioredis's `Cluster.slots`: slot → node keys, the master
   * first) among the slots the prefix's keys can reach; `[single]` before the slots are known.
   */
  forMasters(slots: readonly (readonly string[] | undefined)[]): string[] {
    const masters = new Set<string>();
    for (const nodes of slots) if (nodes?.[0] !== undefined) masters.add(nodes[0]);
    const byMaster = new Map<string, string>();
    const take = (slot: number, key: string): void => {
      const master = slots[slot]?.[0];
      if (master !== undefined && !byMaster.has(master)) byMaster.set(master, key);
    };
    for (const [slot, key] of this.#bySlot) take(slot, key);
    const stop = Math.min(MAX_TRIES, this.#tried + TRIES_PER_CALL);
    while (byMaster.size < masters.size && this.#tried < stop) {
      // A hash tag in the prefix puts every key of the store in one slot: that one is enough.
      if (this.#tried === PINNED_TRIES && this.#bySlot.size === 1) break;
      const key = `${this.#prefix}probe:{${this.#tried++}}`;
      const slot = keySlot(key);
      if (this.#bySlot.has(slot)) continue;
      this.#bySlot.set(slot, key);
      take(slot, key);
    }
    return byMaster.size === 0 ? [this.#single] : [...byMaster.values()];
  }
}
