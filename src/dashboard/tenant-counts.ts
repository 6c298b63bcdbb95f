/**
 * Refusals per tenant with bounded memory: at most `capacity` tenants are counted; when a new
 * one arrives at a full table, the lower half (by count) is forgotten at once, so a flood of
 * distinct tenants costs O(log n) per refusal amortised and never more than `capacity`
 * entries. A tenant forgotten and seen again starts from 0: under a flood the counts of the
 * top tenants are lower bounds, and heavy tenants stay because they are heavy.
 */
export class TenantCounts {
  readonly #counts = new Map<string, number>();

  constructor(readonly capacity: number) {}

  add(tenant: string): void {
    const n = this.#counts.get(tenant);
    if (n !== undefined) {
      this.#counts.set(tenant, n + 1);
      return;
    }
    if (this.#counts.size >= this.capacity) this.#prune();
    this.#counts.set(tenant, 1);
  }

  #prune(): void {
    const keep = [...this.#counts].sort((a, b) => b[1] - a[1]).slice(0, Math.floor(this.capacity / 2));
    this.#counts.clear();
    for (const [k, v] of keep) this.#counts.set(k, v);
  }

  /** The `n` tenants with the most refusals, most first. */
  top(n: number): [string, number][] {
    return [...this.#counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n);
  }

  get size(): number {
    return this.#counts.size;
  }
}
