/**
 * A tenant label with bounded cardinality: the first `maxValues` distinct keys keep their
 * own value, every later one is counted under `overflow`. First come, first kept — a metrics
 * backend must never see an unbounded label set because a client sent random keys.
 */
export class TenantLabel {
  readonly #seen = new Set<string>();

  constructor(
    readonly maxValues: number,
    readonly overflow: string,
  ) {}

  /** The label value for a context key; '' when the admission had no key. */
  of(key: string | undefined): string {
    if (key === undefined) return '';
    if (this.#seen.has(key)) return key;
    if (this.#seen.size >= this.maxValues) return this.overflow;
    this.#seen.add(key);
    return key;
  }

  /** Distinct values kept so far (the overflow bucket not included). */
  get size(): number {
    return this.#seen.size;
  }
}
