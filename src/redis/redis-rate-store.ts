/**
 * A {@link RateStore} in Redis: every decision is atomic in a script (rate-scripts.ts) on the
 * key's one slot, on Redis's clock; decisions issued in one tick share one script call
 * (rate-batch.ts), each with its own answer. The `now` a gate passes is ignored for the
 * decision, so processes whose clocks disagree share one bucket exactly; `delayMs` and
 * `retryAfterMs` are durations, which the caller's clock measures well enough.
 *
 * When the store cannot answer (see StoreGuard), the decision is the `onStoreError` mode's:
 * admitted ('open'), refused with the time until the next probe ('closed'), or metered by
 * this process's share of the policy in memory ('local'). A refund goes where its reservation
 * was taken, whatever the store's health when it comes: to the local share for one the local
 * mode made (kept until its grant is due), else to Redis — which never counted a local one (a
 * refund sent there once Redis was back gave its bucket a token it never lost), while the local
 * share never took Redis's (one sent there during an outage gave the fallback a token). A refund
 * that cannot reach Redis is dropped (the limit errs strict).
 * WRONGTYPE rejects the decision with StoreWrongTypeError: a key sluice does not own is
 * never overwritten, and an outage mode would hide the misconfiguration.
 */
import { decision } from '../rate/algorithm.js';
import type { RateDecision } from '../rate/algorithm.js';
import { capacityOf, windowOf } from '../rate/policy.js';
import type { RatePolicy } from '../rate/policy.js';
import type { RateStore, RateThen } from '../rate/store.js';
import { Cluster } from 'ioredis';
import { Adopting, promiseOf } from './adopt.js';
import { keyNamer, keyPart, StateKeys, stateKey } from './keys.js';
import { LocalShare } from './local-share.js';
import { failureConfig, keyNamesOption, viewOptions } from './options.js';
import type { FailureConfig, RateStoreOptions } from './options.js';
import type { BatchEntry } from './rate-batch.js';
import { replayConsume } from './rate-replay.js';
import { StoreWrongTypeError } from './store-errors.js';
import { linkOf } from './store-link.js';
import type { RedisStoreHandle, StoreLink } from './store-link.js';

/** A reply number of the lease and breaker scripts: a float printed with %.17g, Infinity as "inf". */
export function replyNumber(x: unknown): number {
  if (typeof x === 'number') return x;
  const s = String(x);
  return s === 'inf' ? Infinity : Number(s);
}

/** Keys with a local reservation pending past which the granted ones are swept out. */
const OWED_SWEEP_AT = 4096;

export interface RedisRateStats {
  /** Decisions Redis made. */
  readonly shared: number;
  /** Decisions made by the failure mode. */
  readonly fallback: number;
}

export class RedisRateStore implements RateStore {
  /** keyPrefix + the store's name: every key of this store starts with it. */
  readonly base: string;
  readonly failure: FailureConfig;
  readonly #link: StoreLink;
  readonly #local: LocalShare;
  /** The last few thousand keys' Redis keys, per algorithm (keys.ts). */
  readonly #keys: StateKeys;
  #shared = 0;
  #fallback = 0;
  /** Reservations the local mode made (allowed with a delay: a caller may cancel one before its grant), by caller key: cost, and when the last is granted. */
  readonly #owed = new Map<string, { cost: number; until: number }>();

  /** What a consume's entry reports back (one object per store, not two closures per decision). */
  readonly #outcome: Outcome = {
    shared: () => void this.#shared++,
    fallback: (err, key, policy, cost, now, maxDelayMs) => this.#fallbackDecision(err, key, policy, cost, now, maxDelayMs),
  };

  /**
   * `store.rateStore(name, options)`: keys under `<keyPrefix><name>`. `keyNames` 'hash': callers'
   * keys are named in Redis by their hash (storedKey), never as they are.
   */
  constructor(store: RedisStoreHandle, name: string, options: RateStoreOptions = {}) {
    const link = linkOf(store);
    keyPart('name', name);
    viewOptions('rateStore', options);
    this.#link = link;
    this.base = link.config.keyPrefix + name;
    this.failure = failureConfig(options, link.config);
    this.#local = new LocalShare(this.failure.instances);
    this.#keys = new StateKeys(this.base, 4096, keyNamer(keyNamesOption('keyNames', options.keyNames, link.config.keyNames)));
  }

  /** Keys the local fallback holds (Redis's keys are not counted: they expire by themselves). */
  get size(): number {
    return this.#local.store.size;
  }

  stats(): RedisRateStats {
    return { shared: this.#shared, fallback: this.#fallback };
  }

  /** The Redis key holding `key`'s state under `policy`'s algorithm. */
  keyOf(key: string, policy: RatePolicy): string {
    return this.#keys.of(key, policy.algorithm);
  }

  consume(key: string, policy: RatePolicy, cost: number, now: number, maxDelayMs: number): Promise<RateDecision> {
    return this.#queue(key, policy, cost, now, maxDelayMs, undefined, undefined) as Promise<RateDecision>;
  }

  consumeThen<A, T>(key: string, policy: RatePolicy, cost: number, now: number, maxDelayMs: number, then: RateThen<A, T>, arg: A): Promise<T> {
    return this.#queue(key, policy, cost, now, maxDelayMs, then as RateThen<unknown, unknown>, arg) as Promise<T>;
  }

  #queue(key: string, policy: RatePolicy, cost: number, now: number, maxDelayMs: number, then: RateThen<unknown, unknown> | undefined, arg: unknown): Promise<unknown> {
    const c = new Consume(this.#outcome, this.keyOf(key, policy), policy, cost, maxDelayMs, key, now, then, arg);
    // The entry takes its promise's resolvers itself (adopt.ts): no executor closure per decision.
    const p = promiseOf(c);
    this.#link.rate.push(c);
    return p;
  }

  refund(key: string, policy: RatePolicy, cost: number, now: number): Promise<void> {
    const local = this.#local.keyOf(key);
    if (this.#owedLocally(local, cost, now)) {
      this.#local.store.refund(local, this.#local.share(policy), cost, now);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.#link.rate.push({ key: this.keyOf(key, policy), op: 'r', policy, x: cost, y: 0, answer: () => resolve(), fail: reject });
    });
  }

  /** Forget `key` under every algorithm (one DEL: the keys share a slot). True when something was there. */
  async delete(key: string): Promise<boolean> {
    this.#local.store.delete(this.#local.keyOf(key));
    const keys = (['token-bucket', 'gcra', 'sliding-window'] as const).map((a) => stateKey(this.base, this.#keys.name(key), a));
    const n = await this.#link.guard.run(keys[0]!, () => this.#link.client.del(...keys));
    return n > 0;
  }

  /** Forget every key of this store (SCAN of each master for `base*`, then DEL). */
  async clear(): Promise<void> {
    this.#local.store.clear();
    const c = this.#link.client;
    const nodes = c instanceof Cluster ? c.nodes('master') : [c];
    const pattern = `${this.base.replace(/[*?[\]\\]/g, '\\$&')}*`;
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        cursor = next;
        // One DEL per key: keys of different tags live in different slots.
        await Promise.all(keys.map((k) => node.del(k)));
      } while (cursor !== '0');
    }
  }

  #fallbackDecision(err: unknown, key: string, policy: RatePolicy, cost: number, now: number, maxDelayMs: number): RateDecision {
    if (err instanceof StoreWrongTypeError) throw err;
    this.#fallback++;
    const cap = capacityOf(policy);
    switch (this.failure.onStoreError) {
      case 'open':
        return decision(policy.name, cap, cap - cost, windowOf(policy), 0, true, 0, 0);
      case 'closed': {
        const retry = this.#link.config.probeMs;
        // Refused for the store's outage, not for the client's rate: its own reason (a 503).
        return { ...decision(policy.name, cap, 0, windowOf(policy), retry, false, 0, retry), unavailable: true };
      }
      case 'local': {
        // Held under a bounded name (local-share.ts): a hostile key costs the outage no more memory than a short one.
        const local = this.#local.keyOf(key);
        const d = this.#local.store.consume(local, this.#local.share(policy), cost, now, maxDelayMs);
        if (d.allowed && d.delayMs > 0) this.#owe(local, cost, now, now + d.delayMs);
        return d;
      }
    }
  }

  /** A reservation of `cost` for `key` (its local name) the local mode made at `now`, granted at `until`. */
  #owe(key: string, cost: number, now: number, until: number): void {
    const o = this.#owed.get(key);
    if (o !== undefined && o.until >= now) {
      o.cost += cost;
      o.until = Math.max(o.until, until);
      return;
    }
    // Granted ones can no longer be refunded: swept when the map grows (one entry per key with a reservation pending).
    if (this.#owed.size >= OWED_SWEEP_AT) for (const [k, v] of this.#owed) if (v.until < now) this.#owed.delete(k);
    this.#owed.set(key, { cost, until });
  }

  /** Whether a refund of `cost` for `key` (its local name) at `now` gives back a reservation the local mode made (taken off what is owed). */
  #owedLocally(key: string, cost: number, now: number): boolean {
    const o = this.#owed.get(key);
    if (o === undefined) return false;
    if (now > o.until) {
      this.#owed.delete(key);
      return false;
    }
    o.cost -= cost;
    if (o.cost <= 0) this.#owed.delete(key);
    return true;
  }
}

interface Outcome {
  shared(): void;
  fallback(err: unknown, key: string, policy: RatePolicy, cost: number, now: number, maxDelayMs: number): RateDecision;
}

/** A consume waiting in its batch: Redis's answer replayed into the decision, or the failure mode's. */
class Consume extends Adopting<unknown> implements BatchEntry {
  readonly op = 'c';
  readonly y: number;
  constructor(
    readonly outcome: Outcome,
    readonly key: string,
    readonly policy: RatePolicy,
    readonly x: number,
    readonly maxDelayMs: number,
    readonly callerKey: string,
    readonly now: number,
    /** consumeThen's next step (and its argument): the promise settles with its result. (Not `then`: the entry is no thenable.) */
    readonly andThen: RateThen<unknown, unknown> | undefined,
    readonly arg: unknown,
  ) {
    super();
    this.y = maxDelayMs === Infinity ? 1e308 : maxDelayMs;
  }

  answer(verdict: number, reply: Buffer, at: number, now: number): void {
    let d: RateDecision;
    try {
      d = replayConsume(this.policy, verdict, reply, at, now, this.x, this.maxDelayMs);
    } catch (err) {
      this.reject(err as Error);
      return;
    }
    this.outcome.shared();
    this.#settle(d);
  }

  fail(err: unknown): void {
    let d: RateDecision;
    try {
      d = this.outcome.fallback(err, this.callerKey, this.policy, this.x, this.now, this.maxDelayMs);
    } catch (e) {
      this.reject(e as Error);
      return;
    }
    this.#settle(d);
  }

  #settle(d: RateDecision): void {
    if (this.andThen === undefined) {
      this.resolve(d);
      return;
    }
    try {
      this.resolve(this.andThen(d, this.arg, this.callerKey, this.x, this.now));
    } catch (err) {
      this.reject(err as Error);
    }
  }
}
