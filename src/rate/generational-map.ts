/**
 * A size-bounded map with approximate LRU eviction in O(1) and no per-hit bookkeeping
 * (the scheme of quick-lru): two generations, `current` and `old`. Keys are inserted into
 * `current`; when it holds `maxSize / 2` keys, `old` is dropped whole and `current`
 * becomes `old`. A hit in `old` moves the key to `current`. A hit in `current` — the hot
 * path — is a single `Map.get`.
 *
 * Invariant: `current.size <= maxSize / 2` and `old.size <= maxSize / 2`, so `size <= maxSize`.
 * A key survives at least `maxSize / 2` insertions of other keys after its last use.
 */
export class GenerationalMap<V> {
  readonly maxSize: number;
  readonly #generation: number;
  #current = new Map<string, V>();
  #old = new Map<string, V>();
  readonly #onTurnover: (() => void) | undefined;

  /**
   * @param maxSize Integer >= 2 (checked by the caller).
   * @param onTurnover Called after every turnover, before the insertion that caused it.
   */
  constructor(maxSize: number, onTurnover?: () => void) {
    this.maxSize = maxSize;
    this.#generation = Math.max(1, Math.floor(maxSize / 2));
    this.#onTurnover = onTurnover;
  }

  get size(): number {
    return this.#current.size + this.#old.size;
  }

  /** Keys in the young generation (tests and stats). */
  get youngSize(): number {
    return this.#current.size;
  }

  get(key: string): V | undefined {
    const v = this.#current.get(key);
    if (v !== undefined) return v;
    const o = this.#old.get(key);
    if (o !== undefined) {
      this.#old.delete(key);
      this.#insert(key, o);
    }
    return o;
  }

  /** Look up without promoting (does not count as a use). */
  peek(key: string): V | undefined {
    return this.#current.get(key) ?? this.#old.get(key);
  }

  has(key: string): boolean {
    return this.#current.has(key) || this.#old.has(key);
  }

  set(key: string, value: V): void {
    if (this.#current.has(key)) {
      this.#current.set(key, value);
      return;
    }
    this.#old.delete(key);
    this.#insert(key, value);
  }

  delete(key: string): boolean {
    const a = this.#current.delete(key);
    const b = this.#old.delete(key);
    return a || b;
  }

  clear(): void {
    this.#current = new Map();
    this.#old = new Map();
  }

  /** Drop the old generation and age the current one. O(1); the dropped map is garbage. */
  turnover(): void {
    this.#old = this.#current;
    this.#current = new Map();
    this.#onTurnover?.();
  }

  #insert(key: string, value: V): void {
    if (this.#current.size >= this.#generation) this.turnover();
    this.#current.set(key, value);
  }
}
