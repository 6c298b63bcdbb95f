/**
 * Per-tenant rate limiting: one bucket per `ctx.key`, held in a {@link RateStore} (a bounded
 * {@link MemoryStore} unless one is given), with per-key policy overrides.
 *
 * A context without a key is a caller's bug, not a tenant: `admit` throws
 * InvalidArgumentError rather than silently pooling every key-less request into one bucket.
 * (To rate-limit a single shared bucket, use `TokenBucket`, `Gcra` or `SlidingWindow`.)
 *
 * A key's policy is looked up on every request, so a changed override applies from the
 * next request on; a key whose override switches algorithm starts from a full bucket.
 */
import { optionKeys, optKnownKeys } from '../core/option-keys.js';
import { InvalidArgumentError, InvalidOptionError } from '../core/errors.js';
import type { Admission, AdmissionContext, GateStats } from '../core/types.js';
import type { RateDecision } from './algorithm.js';
import { MemoryStore } from './memory-store.js';
import type { MemoryStoreOptions } from './memory-store.js';
import { capacityOf, ratePolicy } from './policy.js';
import type { RatePolicy, RatePolicyInput } from './policy.js';
import { RateGate } from './rate-gate.js';
import type { RateGateOptions } from './rate-gate.js';
import type { RateStore, RateThen } from './store.js';

/**
 * Per-key policies. A map or record is validated at construction. A function is called on
 * every request; each distinct object it returns is validated once (return shared
 * constants, not fresh literals); `undefined` means the default policy.
 */
export type PolicyOverrides =
  | ReadonlyMap<string, RatePolicyInput>
  | Readonly<Record<string, RatePolicyInput>>
  | ((key: string) => RatePolicyInput | undefined);

export interface KeyedRateLimiterOptions extends RateGateOptions, MemoryStoreOptions {
  /** Policy of every key without an override. Required. Unnamed policies take the gate's name. */
  readonly policy: RatePolicyInput;
  /** Per-key policies. @default none */
  readonly overrides?: PolicyOverrides;
  /**
   * Where per-key state lives. @default a new MemoryStore configured by `maxKeys` and
   * `minTurnoverMs` (giving those with a store is a contradiction, so an error).
   */
  readonly store?: RateStore;
}

/** Stats of a keyed limiter: `limit` is the default policy's capacity; `tokens` is undefined (per key). */
const KEYED_KEYS = optionKeys<KeyedRateLimiterOptions>({ name: true, clock: true, maxWaitMs: true, quota: true, policy: true, overrides: true, store: true, maxKeys: true, minTurnoverMs: true });

export interface KeyedRateStats extends GateStats {
  /** Keys whose state the store holds. */
  readonly keys: number;
}

export class KeyedRateLimiter extends RateGate {
  readonly kind = 'keyed-rate';
  /** The validated default policy. */
  readonly policy: RatePolicy;
  readonly store: RateStore;
  readonly #overrideMap: Map<string, RatePolicy> | undefined;
  readonly #overrideFn: ((key: string) => RatePolicyInput | undefined) | undefined;
  readonly #resolved = new WeakMap<object, RatePolicy>();

  constructor(options: KeyedRateLimiterOptions) {
    super(options, 'keyed-rate');
    optKnownKeys('KeyedRateLimiter', options, KEYED_KEYS);
    this.policy = ratePolicy(options.policy, 'policy', this.name);
    if (options.store !== undefined) {
      if (options.maxKeys !== undefined) throw new InvalidOptionError('maxKeys', 'absent when a store is given (it configures the default memory store)', options.maxKeys);
      if (options.minTurnoverMs !== undefined) throw new InvalidOptionError('minTurnoverMs', 'absent when a store is given (it configures the default memory store)', options.minTurnoverMs);
      const s = options.store as Partial<RateStore> | null;
      if (typeof s !== 'object' || s === null || typeof s.consume !== 'function' || typeof s.refund !== 'function') {
        throw new InvalidOptionError('store', 'a RateStore (consume, refund, delete, clear, size)', options.store);
      }
      this.store = options.store;
      this.storeThen = typeof this.store.consumeThen === 'function';
    } else {
      const { maxKeys, minTurnoverMs } = options;
      this.store = new MemoryStore({ ...(maxKeys !== undefined ? { maxKeys } : {}), ...(minTurnoverMs !== undefined ? { minTurnoverMs } : {}) });
    }
    const o = options.overrides;
    if (typeof o === 'function') {
      this.#overrideFn = o;
    } else if (o !== undefined) {
      if (typeof o !== 'object' || o === null) throw new InvalidOptionError('overrides', 'a Map, a record or a function', o);
      const entries = o instanceof Map ? [...(o as ReadonlyMap<string, RatePolicyInput>)] : Object.entries(o as Record<string, RatePolicyInput>);
      const map = new Map<string, RatePolicy>();
      for (const [key, input] of entries) map.set(key, ratePolicy(input, `overrides[${JSON.stringify(key)}]`, this.name));
      if (map.size > 0) this.#overrideMap = map;
    }
  }

  /** The validated policy `key` is metered under (for RateLimit-Policy headers, say). */
  policyFor(key: string): RatePolicy {
    if (this.#overrideMap !== undefined) return this.#overrideMap.get(key) ?? this.policy;
    if (this.#overrideFn !== undefined) {
      const input = this.#overrideFn(key);
      if (input === undefined) return this.policy;
      let p = this.#resolved.get(input);
      if (p === undefined) {
        p = ratePolicy(input, `overrides(${JSON.stringify(key)})`, this.name);
        this.#resolved.set(input, p);
      }
      return p;
    }
    return this.policy;
  }

  /** Forget `key`'s state: its next request sees a full bucket (after a successful login, say). */
  reset(key: string): boolean | Promise<boolean> {
    return this.store.delete(key);
  }

  stats(): KeyedRateStats {
    return { ...this.rateStats(capacityOf(this.policy), undefined), keys: this.store.size };
  }

  protected override keyOf(ctx: AdmissionContext): string {
    const key = ctx.key;
    if (typeof key !== 'string') throw new InvalidArgumentError('key', 'a string (a keyed rate limiter meters per key)', key);
    return key;
  }

  /** `tryAdmit()` needs the in-memory store: a remote one answers with promises. */
  protected override answersNow(): boolean {
    return this.store instanceof MemoryStore;
  }

  protected override consumeThen(key: string, cost: number, now: number, maxDelayMs: number, then: RateThen<AdmissionContext, Admission>, ctx: AdmissionContext): Promise<Admission> {
    return this.store.consumeThen!(key, this.policyFor(key), cost, now, maxDelayMs, then, ctx);
  }

  protected consume(key: string, cost: number, now: number, maxDelayMs: number): RateDecision | Promise<RateDecision> {
    return this.store.consume(key, this.policyFor(key), cost, now, maxDelayMs);
  }

  protected refund(key: string, cost: number, now: number): void | Promise<void> {
    return this.store.refund(key, this.policyFor(key), cost, now);
  }
}
