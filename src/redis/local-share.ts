/**
 * The 'local' failure mode's limiter: this process's share of a shared limit, metered in its
 * own memory while the store cannot answer. With `instances` processes sharing a policy of
 * rate r and burst b, each meters r / instances with burst max(1, b / instances) (a window
 * limit likewise), so all of them together stay near the limit if all are alive and all lose
 * the store together. State starts fresh at each outage's first decision.
 *
 * A caller's key is held under the name the shared path writes into Redis when keys are 'raw'
 * ({@link boundedName}): itself, or its SHA-256 past MAX_STORE_KEY_LENGTH. Held as it was, a run
 * of hostile 1 MB keys during an outage kept a megabyte each, up to `maxKeys` of them.
 */
import { boundedName } from './keys.js';
import { MemoryStore } from '../rate/memory-store.js';
import { ratePolicy } from '../rate/policy.js';
import type { RatePolicy } from '../rate/policy.js';

export class LocalShare {
  readonly instances: number;
  readonly store: MemoryStore;
  readonly #scaled = new WeakMap<RatePolicy, RatePolicy>();

  constructor(instances: number, maxKeys = 100_000) {
    this.instances = instances;
    this.store = new MemoryStore({ maxKeys });
  }

  /** The name `key`'s local state is held under: at most MAX_STORE_KEY_LENGTH long (cheap for a short key: no hash). */
  keyOf(key: string): string {
    return boundedName(key);
  }

  /** `policy` divided among the instances (the same object when instances is 1). */
  share(policy: RatePolicy): RatePolicy {
    const n = this.instances;
    if (n === 1) return policy;
    let p = this.#scaled.get(policy);
    if (p !== undefined) return p;
    p =
      policy.algorithm === 'sliding-window'
        ? ratePolicy({ algorithm: 'sliding-window', name: policy.name, limit: Math.max(1, policy.limit / n), windowMs: policy.windowMs }, 'policy')
        : ratePolicy({ algorithm: policy.algorithm, name: policy.name, rate: policy.rate / n, perMs: policy.perMs, burst: Math.max(1, policy.burst / n) }, 'policy');
    this.#scaled.set(policy, p);
    return p;
  }
}
