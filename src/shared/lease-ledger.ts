/**
 * The shared limits of one host, held in one process (the gateway's primary) for several
 * holders (its workers): the memory home of {@link SharedLimitStore}. Each holder gets a
 * view, `ledger.holder(id)`, that implements the interface; the primary answers its
 * workers' IPC calls with it, and `drop(id)` gives back everything a dead worker held.
 *
 * Tokens: one bucket per key in a {@link MemoryStore} (the same formulas as a process's own
 * limiter, and the same bound: a full table evicts into its floors, memory-store.ts), on this
 * process's monotonic clock; a take is a `consume` of `min`, then of as
 * many more as are there up to `max`. Slots: per name, what each holder leases and wants;
 * `Σ held <= limit` always (a holder's slots count from the moment they are granted here
 * until its give-back arrives here). A holder may say, with its calls, that callers wait at it
 * and how many of its slots its work could give up (SlotUse): callers waiting with no slot free
 * make the ledger ask another holder, above its share, to give some up (onYield, #askYields).
 *
 * Forgetting: a table of tokens goes when no holder uses it any more — each says so, `useTable`
 * (its limiter retired by a reload: a changed rate is a new table) — and a pool of slots when
 * every holder of it has released it (`releaseSlots`) and holds none. Until then a released
 * holder stays in its pool: the pool's fair share divides the limit by the holders it has, and
 * a live pool's divisor must not change under it (#fairShare). Without this, every reload that
 * changed a limit left its tables here for good, with every tenant's bucket (hostile pass,
 * session 18). A dead holder (`drop`) leaves the tables it used: its successor takes over the
 * same limiters, and a table forgotten meanwhile would give every tenant a fresh burst; one
 * nobody uses after that goes once its every bucket is full again (a fresh table answers the same).
 */
import { MemoryStore } from '../rate/memory-store.js';
import type { RatePolicy } from '../rate/policy.js';
import type { SharedLimitStore, SlotGrant, SlotUse, TokenGrant, TokenTable } from './limit-store.js';

interface SlotHolding {
  held: number;
  want: number;
  /** It said it will never use these slots again (`releaseSlots`). */
  released: boolean;
  /** Told that another holder wants slots (onWanted), and not heard from since. */
  told: boolean;
  /** What it said it had in use at its last call (takeSlots' `inUse`): the rest of `held` is idle. */
  inUse: number;
  /** What it said at its last call of its callers waiting and of the slots its work could give up (takeSlots' `use`; waiting less what that call granted). */
  use: SlotUse;
  /** Slots it was asked to give up so far, in all (onYield's running total). */
  asked: number;
}

interface SlotPool {
  limit: number;
  readonly holders: Map<string, SlotHolding>;
}

export class LeaseLedger {
  readonly #tokens: MemoryStore;
  /** A table per rate limiter that said which it is (its own maxKeys); `#tokens` for the others. */
  readonly #tables = new Map<string, MemoryStore>();
  /** Per table name, the holders that use it (`useTable`); an empty set: only dead holders did. */
  readonly #users = new Map<string, Set<string>>();
  readonly #slots = new Map<string, SlotPool>();
  /** Per holder, how it is told that another wants slots of a pool it holds some of (onWanted). */
  readonly #wanted = new Map<string, (name: string, fairShare: number) => void>();
  /** Per holder, how it is asked to give up slots its work could give up (onYield). */
  readonly #yields = new Map<string, (name: string, asked: number) => void>();
  readonly #now: () => number;

  constructor(options: { readonly maxKeys?: number; readonly now?: () => number } = {}) {
    this.#tokens = new MemoryStore(options.maxKeys === undefined ? {} : { maxKeys: options.maxKeys });
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * Holder `id` is told (`tell(name, fairShare)`) when another holder of pool `name` asks for
   * slots and none are free while `id` holds some and wants none: its idle slots above the fair
   * share should go back now. Without it, such a holder learns of the other's demand only at its
   * next poll (SlotLease: every 10th tick), and a queue with a short timeout runs out meanwhile
   * (hostile-24: 2 workers, a burst on one, 28 of 55 refused with 23 slots idle in the other).
   * Once per holder until it calls again. `undefined` stops it; `drop` too.
   */
  onWanted(id: string, tell: ((name: string, fairShare: number) => void) | undefined): void {
    if (tell === undefined) this.#wanted.delete(id);
    else this.#wanted.set(id, tell);
  }

  /**
   * Holder `id` is asked (`ask(name, asked)`) to give up slots of pool `name` that its work could
   * give up (its last `use`): callers wait at another holder, more than the free slots, the idle
   * ones and those being given up already can serve, and `id` holds slots above its share
   * (⌊limit / holders⌋) — one it gives up goes back here, and on to the holder that waits, as an
   * idle slot above the share does. `asked` is the running total. `undefined` stops it; `drop` too.
   */
  onYield(id: string, ask: ((name: string, asked: number) => void) | undefined): void {
    if (ask === undefined) this.#yields.delete(id);
    else this.#yields.set(id, ask);
  }

  /** The store as one holder sees it. */
  holder(id: string): SharedLimitStore {
    const watched = new Map<string, { onWanted: (fairShare: number) => void; onYield: ((asked: number) => void) | undefined }>();
    return {
      watchSlots: (name, onWanted, onYield) => {
        const w = { onWanted, onYield };
        watched.set(name, w);
        this.onWanted(id, (n, fairShare) => watched.get(n)?.onWanted(fairShare));
        this.onYield(id, (n, asked) => watched.get(n)?.onYield?.(asked));
        return () => {
          if (watched.get(name) === w) watched.delete(name);
        };
      },
      takeTokens: (key, policy, min, max, table) => Promise.resolve(this.takeTokens(key, policy, min, max, table)),
      returnTokens: (key, policy, n, table) => Promise.resolve(this.returnTokens(key, policy, n, table)),
      takeSlots: (name, limit, want, inUse, use) => Promise.resolve(this.takeSlots(id, name, limit, want, inUse, use)),
      returnSlots: (name, n) => Promise.resolve(this.returnSlots(id, name, n)),
      useTable: (table, using) => Promise.resolve(this.useTable(id, table, using)),
      releaseSlots: (name) => Promise.resolve(this.releaseSlots(id, name)),
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

  /** Holder `id` takes from `table` from now on (`using`), or never again: a table nobody uses is forgotten. */
  useTable(id: string, table: TokenTable, using: boolean): void {
    let users = this.#users.get(table.name);
    if (using) {
      if (users === undefined) this.#users.set(table.name, (users = new Set()));
      users.add(id);
      return;
    }
    if (users?.delete(id) !== true) return;
    if (users.size === 0) this.#forgetTable(table.name);
    this.#forgetOrphans();
  }

  /** Token tables held (one per rate limiter some holder uses), and the keys in them all (with the shared table's). */
  tokenTables(): { count: number; keys: number } {
    let keys = this.#tokens.size;
    for (const t of this.#tables.values()) keys += t.size;
    return { count: this.#tables.size, keys };
  }

  #forgetTable(name: string): void {
    this.#users.delete(name);
    this.#tables.delete(name);
  }

  /** Tables only dead holders used: forgotten once every bucket in them, and the floor of every tenant it evicted, is full again (equal to none). */
  #forgetOrphans(): void {
    const now = this.#now();
    for (const [name, users] of this.#users) {
      if (users.size > 0) continue;
      const t = this.#tables.get(name);
      t?.prune(now);
      if (t === undefined || (t.size === 0 && t.floors === 0)) this.#forgetTable(name);
    }
  }

  /** The named table (made with its maxKeys when first asked for), or the shared one. */
  #table(table: TokenTable | undefined): MemoryStore {
    if (table === undefined) return this.#tokens;
    let t = this.#tables.get(table.name);
    if (t === undefined) this.#tables.set(table.name, (t = new MemoryStore({ maxKeys: table.maxKeys })));
    return t;
  }

  takeSlots(id: string, name: string, limit: number, want: number, inUse?: number, use?: SlotUse): SlotGrant {
    let pool = this.#slots.get(name);
    if (pool === undefined) this.#slots.set(name, (pool = { limit, holders: new Map() }));
    // A reload may change the limit: new grants follow it; holdings above it drain by give-backs.
    pool.limit = limit;
    let h = pool.holders.get(id);
    if (h === undefined) pool.holders.set(id, (h = { held: 0, want: 0, released: false, told: false, inUse: 0, use: NO_USE, asked: 0 }));
    h.released = false;
    h.told = false;
    if (inUse !== undefined) h.inUse = inUse;
    let used = 0;
    for (const x of pool.holders.values()) used += x.held;
    const granted = Math.max(0, Math.min(want, limit - used));
    h.held += granted;
    h.want = want - granted;
    if (use !== undefined) h.use = { ...use, waiting: Math.max(0, use.waiting - granted) };
    const fairShare = this.#fairShare(pool, id);
    let othersShort = 0;
    for (const [k, x] of pool.holders) if (k !== id && x.want > 0) othersShort += Math.max(0, fairShare - x.held);
    if (h.want > 0) this.#tellOthers(name, pool, id);
    // Free, or held idle by the others at their last call: what this holder's waiting callers may get soon (leaseRoom).
    // And what the others' work could give up above their shares: asked for below once callers wait.
    let idleElsewhere = Math.max(0, limit - used - granted);
    for (const [k, x] of pool.holders) if (k !== id && !x.released) idleElsewhere += Math.max(0, x.held - x.inUse) + (x.use.waiting > 0 ? 0 : yieldable(x, shareOf(pool)));
    this.#askYields(name, pool);
    return { granted, fairShare, othersShort, idleElsewhere };
  }

  /**
   * Callers wait at some holders (each less the slots it is giving up itself: its own waiters
   * take those), more than the free slots, the idle ones and those being given up at holders
   * with nobody waiting can serve: ask holders with nobody waiting for as many of the slots
   * their work could give up above their shares. Once per waiter: an ask counts as a slot being
   * given up from the moment it is sent until the holder's report has seen it (SlotUse.asked).
   */
  #askYields(name: string, pool: SlotPool): void {
    let short = 0;
    let used = 0;
    for (const x of pool.holders.values()) {
      used += x.held;
      if (x.released) continue;
      const freeing = x.use.freeing + pendingAsks(x);
      if (x.use.waiting > 0) short += Math.max(0, x.use.waiting - freeing);
      else short -= Math.max(0, x.held - x.inUse) + freeing;
    }
    short -= Math.max(0, pool.limit - used);
    const share = shareOf(pool);
    for (const [k, x] of pool.holders) {
      if (short <= 0) return;
      const ask = this.#yields.get(k);
      if (ask === undefined || x.released || x.use.waiting > 0) continue;
      const n = Math.min(short, yieldable(x, share));
      if (n <= 0) continue;
      x.asked += n;
      short -= n;
      ask(name, x.asked);
    }
  }

  /** `id` wants slots and none are free: tell the holders that hold some and want none (once until they call). */
  #tellOthers(name: string, pool: SlotPool, id: string): void {
    for (const [k, x] of pool.holders) {
      if (k === id || x.told || x.want > 0 || x.held === 0 || x.released) continue;
      const tell = this.#wanted.get(k);
      if (tell === undefined) continue;
      x.told = true;
      tell(name, this.#fairShare(pool, k));
    }
  }

  returnSlots(id: string, name: string, n: number): void {
    const pool = this.#slots.get(name);
    const h = pool?.holders.get(id);
    if (h === undefined) return;
    h.held = Math.max(0, h.held - n);
    h.told = false;
    this.#forgetIfReleased(name, pool!);
  }

  /**
   * Holder `id` will never use the slots `name` again: the pool goes once every holder has said
   * so and holds none. Until then a lease of the name it starts later (a policy a reload removed,
   * restored) counts from 0: what the one before said of its use, and the asks made of it, are
   * forgotten — kept, those asks were slots still being given up, and callers waiting at
   * another holder were asked nothing for (metricspush).
   */
  releaseSlots(id: string, name: string): void {
    const pool = this.#slots.get(name);
    const h = pool?.holders.get(id);
    if (h === undefined) return;
    h.want = 0;
    h.released = true;
    h.inUse = 0;
    h.use = NO_USE;
    h.asked = 0;
    this.#forgetIfReleased(name, pool!);
  }

  #forgetIfReleased(name: string, pool: SlotPool): void {
    for (const h of pool.holders.values()) if (!h.released || h.held > 0) return;
    this.#slots.delete(name);
  }

  /** Everything `id` held goes back (its process is gone); the tables it used stay (see the top). */
  drop(id: string): void {
    this.#wanted.delete(id);
    this.#yields.delete(id);
    for (const [name, pool] of this.#slots) {
      pool.holders.delete(id);
      this.#forgetIfReleased(name, pool);
    }
    for (const users of this.#users.values()) users.delete(id);
    this.#forgetOrphans();
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

const NO_USE: SlotUse = { waiting: 0, yieldable: 0, freeing: 0, asked: 0 };

/** Asks sent to `h` that its last report had not seen yet. */
function pendingAsks(h: SlotHolding): number {
  return Math.max(0, h.asked - h.use.asked);
}

/** The share every holder of `pool` keeps while all want slots, ⌊limit / holders⌋ (0 when the limit is smaller). */
function shareOf(pool: SlotPool): number {
  return Math.floor(pool.limit / pool.holders.size);
}

/** What `h`'s work could still give up above `share`: what it said it could, less the asks on their way and what it gives up already. */
function yieldable(h: SlotHolding, share: number): number {
  const pending = pendingAsks(h);
  return Math.max(0, Math.min(h.use.yieldable - pending, h.held - share - h.use.freeing - pending));
}
