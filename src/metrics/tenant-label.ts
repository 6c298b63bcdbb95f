import { shownKey, systemClock } from '../core/index.js';
import type { Clock, TenantKeys } from '../core/index.js';

/**
 * A tenant label with bounded cardinality: at most `maxValues` tenants have their own value at
 * a time, the heaviest by recent volume; every other one is counted under `overflow`. A metrics
 * backend never sees an unbounded label set because a client sent random keys, and a heavy
 * tenant that arrives late is not lumped into `overflow` because the first ones came first.
 *
 * Recent volume: each key's events, halved every `halfLifeMs` (an exponentially decayed count,
 * halved in steps). While fewer than `maxValues` tenants hold a value, a new key takes one. Then
 * a key without one is scored (among at most 4 × maxValues candidates, the lower half forgotten
 * when full, as the dashboard's TenantCounts) and takes the place of the lowest-scored labelled
 * tenant once its score is more than twice that one's: the hysteresis keeps two tenants of like
 * volume from trading places at every event. The one replaced is told to `onDemote` (the
 * Prometheus adapter removes its series, so the exposition holds at most maxValues tenants);
 * its later events count under `overflow`, and a tenant promoted counts from its promotion.
 * Each event is counted once, under one value: rate() summed over the tenant label is the total.
 *
 * The value is the key as shown under `keys` (shownKey: a stable short hash by default), so a
 * scrape never carries an API key.
 */
export class TenantLabel {
  /** Label values by labelled key: each key hashed once. */
  readonly #labelled = new Map<string, string>();
  /** Recent volume by key: labelled keys always, candidates within 4 × maxValues. */
  readonly #scores = new Map<string, number>();
  readonly #candidates: number;
  #epoch: number;
  /** A lower bound of the lowest labelled score (scores only grow between halvings): the exact one is looked up only when a candidate passes it. */
  #floor = 0;
  /** Told of a value no longer given (its tenant replaced by a heavier one). */
  onDemote: ((value: string) => void) | undefined;

  constructor(
    readonly maxValues: number,
    readonly overflow: string,
    readonly keys: TenantKeys = 'hash',
    readonly halfLifeMs = 60_000,
    readonly clock: Pick<Clock, 'now'> = systemClock,
  ) {
    this.#candidates = Math.max(16, 4 * maxValues);
    this.#epoch = Math.floor(clock.now() / halfLifeMs);
  }

  /** The label value for a context key's event (counted in its recent volume); '' when the admission had no key. */
  of(key: string | undefined): string {
    if (key === undefined) return '';
    this.#decay();
    const score = (this.#scores.get(key) ?? 0) + 1;
    if (!this.#scores.has(key) && this.#scores.size >= this.#labelled.size + this.#candidates) this.#prune();
    this.#scores.set(key, score);
    const v = this.#labelled.get(key);
    if (v !== undefined) return v;
    if (this.#labelled.size < this.maxValues) return this.#label(key);
    if (score <= 2 * this.#floor) return this.overflow;
    const lowest = this.#lowest();
    if (score <= 2 * this.#floor) return this.overflow;
    const gone = this.#labelled.get(lowest)!;
    this.#labelled.delete(lowest);
    this.onDemote?.(gone);
    return this.#label(key);
  }

  /** Distinct values given now (the overflow bucket not included). */
  get size(): number {
    return this.#labelled.size;
  }

  #label(key: string): string {
    const shown = shownKey(key, this.keys);
    this.#labelled.set(key, shown);
    return shown;
  }

  /** The labelled key of the lowest score; sets the floor to its score. */
  #lowest(): string {
    let lowest = '';
    let min = Infinity;
    for (const k of this.#labelled.keys()) {
      const s = this.#scores.get(k) ?? 0;
      if (s < min) [lowest, min] = [k, s];
    }
    this.#floor = min;
    return lowest;
  }

  /** Halve every score once per half-life passed; forget candidates that fall to nothing. */
  #decay(): void {
    const epoch = Math.floor(this.clock.now() / this.halfLifeMs);
    const steps = epoch - this.#epoch;
    if (steps <= 0) return;
    this.#epoch = epoch;
    const factor = 2 ** -Math.min(steps, 64);
    for (const [k, s] of this.#scores) {
      const next = s * factor;
      if (next < 0.01 && !this.#labelled.has(k)) this.#scores.delete(k);
      else this.#scores.set(k, next);
    }
    this.#floor *= factor;
  }

  /** The candidates' table is full: keep its upper half by score (labelled keys are kept whatever their score). */
  #prune(): void {
    const candidates = [...this.#scores].filter(([k]) => !this.#labelled.has(k)).sort((a, b) => b[1] - a[1]);
    for (const [k] of candidates.slice(Math.floor(this.#candidates / 2))) this.#scores.delete(k);
  }
}
