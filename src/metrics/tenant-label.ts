import { shownKey } from '../core/index.js';
import type { TenantKeys } from '../core/index.js';

/**
 * A tenant label with bounded cardinality: the first `maxValues` distinct keys keep their
 * own value, every later one is counted under `overflow`. First come, first kept — a metrics
 * backend must never see an unbounded label set because a client sent random keys. The value
 * is the key as shown under `keys` (shownKey: a stable short hash by default), so a scrape
 * never carries an API key.
 */
export class TenantLabel {
  /** Label values by key: each key hashed once. */
  readonly #seen = new Map<string, string>();

  constructor(
    readonly maxValues: number,
    readonly overflow: string,
    readonly keys: TenantKeys = 'hash',
  ) {}

  /** The label value for a context key; '' when the admission had no key. */
  of(key: string | undefined): string {
    if (key === undefined) return '';
    const v = this.#seen.get(key);
    if (v !== undefined) return v;
    if (this.#seen.size >= this.maxValues) return this.overflow;
    const shown = shownKey(key, this.keys);
    this.#seen.set(key, shown);
    return shown;
  }

  /** Distinct values kept so far (the overflow bucket not included). */
  get size(): number {
    return this.#seen.size;
  }
}
