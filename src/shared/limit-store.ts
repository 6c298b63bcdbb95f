/**
 * One limit shared by several processes: the interface behind which the gateway's workers
 * (their primary process holds the state, over IPC) and several hosts (Redis, `sluice/redis`)
 * keep a concurrency limit and rate limits whole. ARCHITECTURE.md, "Shared state: one
 * interface, three homes": the process's memory is the default; this is the other two.
 *
 * A process does not ask the store for every request. It takes small batches — a *lease*
 * of tokens or slots — and serves its own callers from what it holds; waiting stays local
 * (each process queues its own callers). What it does not use goes back, so the limit as a
 * whole is spent where the demand is:
 *
 * - **tokens** (rate limits): every token a process takes is gone from the shared bucket,
 *   so across all processes no more than `rate × t + burst` are ever admitted; a token
 *   given back returns to the bucket (never above its burst). The cost of a batch is
 *   accuracy the other way: tokens held and not yet spent are missing elsewhere until they
 *   go back.
 * - **slots** (a concurrency limit): across all holders, slots leased never exceed `limit`.
 *   A holder reports what it wants more (its queue); the store answers the fair share it
 *   should keep while others want slots, and the holder gives back idle slots above it.
 *   A holder that dies gives back everything it held: the primary sees its worker exit;
 *   a Redis lease has a TTL that the holder renews while it lives.
 *
 * Time is the store's own (the primary's monotonic clock, Redis `TIME`): callers pass
 * none, so clock skew between hosts cannot mint tokens. Every method settles; a store
 * that cannot answer rejects (the caller decides to fail open or closed).
 */
import type { RatePolicy } from '../rate/policy.js';

/** What {@link SharedLimitStore.takeTokens} answers. */
export interface TokenGrant {
  /** Tokens taken now, `min`..`max`; 0 when fewer than `min` were there. */
  readonly taken: number;
  /** When `taken` is 0: ms until `min` tokens will be there (no other taker assumed); `Infinity` if never. 0 otherwise. */
  readonly retryAfterMs: number;
  /** Tokens left in the shared bucket after this call (for RateLimit-Remaining; fractional). */
  readonly remaining: number;
  /**
   * Nothing taken because the store's key table is full of live state and `key` is new:
   * the limiter refuses with `keys_full` (503), not as if the key had spent its rate.
   */
  readonly full?: true;
}

/** What {@link SharedLimitStore.takeSlots} answers. */
export interface SlotGrant {
  /** Slots leased now: 0..`want`, and those leased for work already running on none (`inUse` above what the holder holds). */
  readonly granted: number;
  /**
   * The most this holder should keep while other holders want slots: give back idle slots
   * above it. `limit` when nobody else wants any.
   */
  readonly fairShare: number;
  /**
   * Slots the store counts as this holder's after the call, when it can tell: fewer than the
   * holder believes it holds (with this grant) means it lost some — a Redis lease that expired
   * before its renewal (an outage longer than the TTL) and found no room when renewed. Absent:
   * the store never takes a slot back while its holder lives.
   */
  readonly held?: number;
  /**
   * Slots the store counts across every holder after the call, when it can tell. Above the
   * limit when it lost its lease data while work ran (Redis restarted empty, a failover) and
   * the holders put back the leases that work runs on: a holder then gives back the slots its
   * work frees, up to the excess, instead of admitting on them.
   */
  readonly used?: number;
  /**
   * How many slots the other holders that want some lack to reach the fair share, when the
   * store can tell: a holder above its share comes down by at most that (what it frees beyond
   * it would serve nobody — a share that does not divide the limit leaves slots over).
   * Absent: nothing is known of the others, and the holder is not held to its share.
   */
  readonly othersShort?: number;
  /**
   * Slots this holder could get soon, when the store can tell: the free ones, and those the
   * other holders held beyond what they said they had in use (`inUse`) at their last call —
   * idle, theirs to give back when told (watchSlots). Absent: nothing is known of the others'
   * use. A holder takes it for whether a caller that would wait may wait for them (leaseRoom).
   */
  readonly idleElsewhere?: number;
}

/**
 * What a holder tells the store of its callers and of the work that could give its slots up
 * (SlotLease with a `yielder`: the gateway's slow readers), with each {@link SharedLimitStore.takeSlots}.
 * A store that can ask holders to give slots up (watchSlots' `onYield`) asks, for callers
 * waiting at one holder while no slot is free, another that holds slots above its share.
 */
export interface SlotUse {
  /** Callers waiting for a slot at this holder now. */
  readonly waiting: number;
  /** Its slots held by work that could give them up now (a response whose client stopped reading long enough). */
  readonly yieldable: number;
  /** Its slots being given up: their work was ended, its end not yet complete. */
  readonly freeing: number;
  /** The last `asked` this holder received (watchSlots' `onYield`): the asks after it are still on their way. */
  readonly asked: number;
}

/**
 * The key table a bucket belongs to (one per rate limiter), for a store that bounds the keys
 * it holds: at most `maxKeys` live ones per table, a new key beyond them refused `full` —
 * the limiter's own `maxKeys`, whichever process asks. A store whose keys expire by
 * themselves (Redis) ignores it.
 */
export interface TokenTable {
  readonly name: string;
  readonly maxKeys: number;
}

export interface SharedLimitStore {
  /**
   * Take between `min` and `max` tokens from `key`'s bucket under `policy`, now, in one
   * atomic step (`1 <= min <= max`). Fewer than `min` there: nothing is taken.
   */
  takeTokens(key: string, policy: RatePolicy, min: number, max: number, table?: TokenTable): Promise<TokenGrant>;
  /** Give back `n` tokens taken and not spent. Unknown keys: no-op. */
  returnTokens(key: string, policy: RatePolicy, n: number, table?: TokenTable): Promise<void>;
  /**
   * Lease up to `want` more of the `limit` slots named `name`, and say that this holder
   * would use `want` more now (its demand; 0 withdraws it). `want` 0 asks only for the
   * current fair share. `inUse`: the work this holder runs now — a store that can lose its
   * lease data keeps (or puts back) the leases it runs on even above the limit, and leases
   * what of it runs on none (admitted while the store was away). Default 0. `use`: its
   * callers waiting and the slots its work could give up ({@link SlotUse}); a store that does
   * not ask holders to give slots up ignores it.
   */
  takeSlots(name: string, limit: number, want: number, inUse?: number, use?: SlotUse): Promise<SlotGrant>;
  /** Give back `n` slots this holder leased. */
  returnSlots(name: string, n: number): Promise<void>;
  /**
   * This holder takes tokens from `table` from now on (`true`, before its first take), or never
   * again (`false`, after its last give-back): a store that keeps state per table forgets a
   * table once no holder uses it. Absent: the store's tables go by themselves (Redis keys expire).
   */
  useTable?(table: TokenTable, using: boolean): Promise<void>;
  /**
   * This holder will never use the slots named `name` again (it holds none of them now): a store
   * that keeps state per name forgets it once every holder of it has said so. Absent: as `useTable`.
   */
  releaseSlots?(name: string): Promise<void>;
  /**
   * Call `onWanted(fairShare)` when another holder of the slots named `name` wants some and
   * none are free while this holder holds some: it should give back its idle ones above
   * `fairShare` now, not at its next poll. Returns the call that stops it. Absent: the store
   * cannot tell (Redis), and holders learn it by asking.
   *
   * `onYield(asked)`: callers of another holder wait, no slot is free, and this holder holds
   * slots above its share on work that could give them up (its {@link SlotUse}): it should
   * give up `asked` less the `asked` of its previous call (a running total, so that an ask
   * repeated or crossed by the holder's own report is never one cut too many).
   */
  watchSlots?(name: string, onWanted: (fairShare: number) => void, onYield?: (asked: number) => void): () => void;
  /** Give back everything this holder leased, and stop. Idempotent. */
  close(): Promise<void>;
}
