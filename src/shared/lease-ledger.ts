/**
 * The shared limits of one host, held in one process (the gateway's primary) for several
 * holders (its workers): the memory home of {@link SharedLimitStore}. Each holder gets a
 * view, `ledger.holder(id)`, that implements the interface; the primary answers its
 * workers' IPC calls with it, and `drop(id)` gives back everything a dead worker held.
 *
 * Tokens: one bucket per key in a {@link MemoryStore} (the same formulas as a process's own
 * limiter), on this process's monotonic clock; a take is a `consume` of `min`, then of as
 * many more as are there up to `max`. Slots: per name, what each holder leases and wants;
 * `Σ held <= limit` always (a holder's slots count from the moment they are granted here
 * until its give-back arrives here).
 */
import { MemoryStore } from '../rate/memory-store.js';
import type { RatePolicy } from '../rate/policy.js';
import type { SharedLimitStore, SlotGrant, TokenGrant, TokenTable } from './limit-store.js';

interface SlotHolding {
  held: number;
  want: number;
}

interface SlotPool {
  limit: number;
  readonly holders: Map<string, SlotHolding>;
}

export class LeaseLedger {
  readonly #tokens: MemoryStore;
  /** A table per rate limiter that said which it is (its own maxKeys); `#tokens` for the others. */
  readonly #tables = new Map<string, MemoryStore>();
  readonly #slots = new Map<string, SlotPool>();
  readonly #now: () => number;

  constructor(options: { readonly maxKeys?: number; readonly now?: () => number } = {}) {
    this.#tokens = new MemoryStore(options.maxKeys === undefined ? {} : { maxKeys: options.maxKeys });
    this.#now = options.now ?? (() => performance.now());
  }

  /** The store as one holder sees it. */
  holder(id: string): SharedLimitStore {
    return {
      takeTokens: (key, policy, min, max, table) => Promise.resolve(this.takeTokens(key, policy, min, max, table)),
      returnTokens: (key, policy, n, table) => Promise.resolve(this.returnTokens(key, policy, n, table)),
      takeSlots: (name, limit, want) => Promise.resolve(this.takeSlots(id, name, limit, want)),
      returnSlots: (name, n) => Promise.resolve(this.returnSlots(id, name, n)),
      close: () => Promise.resolve(this.drop(id)),
    };
  }

  takeTokens(key: string, policy: RatePolicy, min: number, max: number, table?: TokenTable): TokenGrant {
    const now = this.#now();
    const tokens = this.#table(table);
    const first = tokens.consume(key, policy, min, now, 0);
    if (!first.allowed) return { taken: 0, retryAfterMs: first.retryAfterMs, remaining: first.facts.remaining, ...(first.full === true ? { full: true as const } : {}) };
    let taken = min;
    const extra = Math.min(max - min, Math.floor(tokens.available(key, policy, now) + 1e-9));
    let remaining = first.facts.remaining;
    if (extra >= 1) {
      const more = tokens.consume(key, policy, extra, now, 0);
      if (more.allowed) {
        taken += extra;
        remaining = more.facts.remaining;
      }
    }
    return { taken, retryAfterMs: 0, remaining };
  }

  returnTokens(key: string, policy: RatePolicy, n: number, table?: TokenTable): void {
    if (n > 0) this.#table(table).refund(key, policy, n, this.#now());
  }

  /** The named table (made with its maxKeys when first asked for), or the shared one. */
  #table(table: TokenTable | undefined): MemoryStore {
    if (table === undefined) return this.#tokens;
    let t = this.#tables.get(table.name);
    if (t === undefined) this.#tables.set(table.name, (t = new MemoryStore({ maxKeys: table.maxKeys })));
    return t;
  }

  takeSlots(id: string, name: string, limit: number, want: number): SlotGrant {
    let pool = this.#slots.get(name);
    if (pool === undefined) this.#slots.set(name, (pool = { limit, holders: new Map() }));
    // A reload may change the limit: new grants follow it; holdings above it drain by give-backs.
    pool.limit = limit;
    let h = pool.holders.get(id);
    if (h === undefined) pool.holders.set(id, (h = { held: 0, want: 0 }));
    let used = 0;
    for (const x of pool.holders.values()) used += x.held;
    const granted = Math.max(0, Math.min(want, limit - used));
    h.held += granted;
    h.want = want - granted;
    return { granted, fairShare: this.#fairShare(pool, id) };
  }

  returnSlots(id: string, name: string, n: number): void {
    const h = this.#slots.get(name)?.holders.get(id);
    if (h !== undefined) h.held = Math.max(0, h.held - n);
  }

  /** Everything `id` held goes back (its process is gone). */
  drop(id: string): void {
    for (const pool of this.#slots.values()) pool.holders.delete(id);
  }

  /** Slots leased per name, per holder (for /status). */
  slots(): Record<string, { limit: number; held: Record<string, number>; wanted: number }> {
    // Without a prototype: a pool named `__proto__` (a policy may be) is a key like any other,
    // not a prototype swap that drops it from /status (hostile-10).
    const out = Object.create(null) as Record<string, { limit: number; held: Record<string, number>; wanted: number }>;
    for (const [name, pool] of this.#slots) {
      const held = Object.create(null) as Record<string, number>;
      let wanted = 0;
      for (const [id, h] of pool.holders) {
        held[id] = h.held;
        wanted += h.want;
      }
      out[name] = { limit: pool.limit, held, wanted };
    }
    return out;
  }

  /**
   * `limit` while no other holder wants slots; else an equal share of it — 0 when the limit is
   * smaller than the number of holders, so that a holder of the limit's only slot learns that
   * another wants it (a share of at least 1 would equal a limit of 1, and say nobody does).
   */
  #fairShare(pool: SlotPool, id: string): number {
    let others = false;
    for (const [k, h] of pool.holders) if (k !== id && h.want > 0) others = true;
    return others ? Math.floor(pool.limit / pool.holders.size) : pool.limit;
  }
}
