/**
 * A circuit breaker whose openings and closings every process shares. Each process keeps its
 * own `CircuitBreaker` (its trip rule counts its own calls; its hot path never waits for
 * Redis); what is shared is the outcome:
 *
 * - a process whose breaker opens (its rule tripped, a probe failed, `trip()`) writes
 *   "open for T ms" to Redis; a process whose probes close it writes "closed";
 * - every process reads the shared state every `syncMs` and applies a change it has not
 *   applied yet: open for the rest of T (by Redis's clock), or closed.
 *
 * So one process tripping opens the breaker everywhere within `syncMs` plus a round trip.
 * When the open time ends, each process lets its own probes through (a probe per process,
 * not one for all); the first whose probes succeed closes it everywhere. During a store
 * outage each breaker goes on alone, as an unshared one would.
 */
import type { CircuitBreaker } from '../breaker/circuit-breaker.js';
import type { BreakerStateChange } from '../breaker/state-change.js';
import { optNumber } from '../core/options.js';
import { optionKeys, optKnownKeys } from '../core/option-keys.js';
import { InvalidArgumentError } from '../core/errors.js';
import { hashTag, keyNamer, keyPart, KIND } from './keys.js';
import { BREAKER_COMMAND } from './lease-scripts.js';
import { replyNumber } from './redis-rate-store.js';
import { StoreUnavailableError } from './store-errors.js';
import { linkOf } from './store-link.js';
import type { RedisStoreHandle, StoreLink } from './store-link.js';
import { deepFreeze } from '../core/deep-freeze.js';

export interface SharedBreakerOptions {
  /** How often the shared state is read, ms: the delay before another process's opening applies here. >= 10. @default 200 */
  readonly syncMs?: number;
  /** Name in Redis (the same in every process). @default the breaker's name */
  readonly name?: string;
}

const SHARED_BREAKER_KEYS = optionKeys<SharedBreakerOptions>({ syncMs: true, name: true });

export const SHARED_BREAKER_DEFAULTS = deepFreeze({ syncMs: 200 } as const);

export class SharedBreaker {
  readonly breaker: CircuitBreaker;
  readonly syncMs: number;
  readonly key: string;
  readonly #link: StoreLink;
  readonly #timer: NodeJS.Timeout;
  readonly #unsubscribe: () => void;
  #applied = 0;
  #applying = false;
  #busy = false;
  /** The store error last warned of, until a call succeeds. */
  #warned: string | undefined;

  /** `store.shareBreaker(breaker, options)`: its state under `<keyPrefix>{<name>}:breaker`. */
  constructor(store: RedisStoreHandle, breaker: CircuitBreaker, options: SharedBreakerOptions = {}) {
    const link = linkOf(store);
    if (options?.name !== undefined) keyPart('name', options.name);
    const base = link.config.keyPrefix;
    if (typeof (breaker as Partial<CircuitBreaker> | null)?.onStateChange !== 'function') throw new InvalidArgumentError('breaker', 'a CircuitBreaker', breaker);
    optKnownKeys('RedisStore.shareBreaker', options, SHARED_BREAKER_KEYS);
    this.#link = link;
    this.breaker = breaker;
    this.syncMs = optNumber('syncMs', options.syncMs ?? SHARED_BREAKER_DEFAULTS.syncMs, 10, 3_600_000);
    this.key = base + hashTag(keyNamer(link.config.keyNames)(options.name ?? breaker.name)) + KIND.breaker;
    this.#unsubscribe = breaker.onStateChange((ch) => this.#changed(ch));
    this.#timer = setInterval(() => void this.sync(), this.syncMs);
    this.#timer.unref();
  }

  /** Read the shared state now and apply a change not applied yet. Resolves when done (never rejects). */
  async sync(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const r = (await this.#link.script(BREAKER_COMMAND, [this.key], ['get'])) as unknown[];
      const epoch = replyNumber(r[0]);
      // Below what was applied: the shared state was lost (Redis restarted empty, a failover to
      // an empty replica, the key expired) and its count began again — or there is none (0).
      // Its changes from here on apply; a missing state changes nothing here.
      if (epoch < this.#applied) this.#applied = 0;
      this.#warned = undefined;
      this.#apply(epoch, String(r[1]), replyNumber(r[2]));
    } catch (err) {
      // The store is away (or its key is unusable): this breaker goes on alone.
      this.#failed(err);
    } finally {
      this.#busy = false;
    }
  }

  /** Stop sharing (the breaker goes on alone). */
  close(): void {
    clearInterval(this.#timer);
    this.#unsubscribe();
  }

  #changed(ch: BreakerStateChange): void {
    if (this.#applying || ch.cause === 'restore' || ch.cause === 'timer') return;
    if (ch.to === 'open') void this.#publish('open', (ch.openUntil ?? ch.at) - ch.at);
    else if (ch.to === 'closed') void this.#publish('closed', 0);
  }

  async #publish(state: 'open' | 'closed', openMs: number): Promise<void> {
    try {
      const r = (await this.#link.script(BREAKER_COMMAND, [this.key], ['set', state, openMs])) as unknown[];
      // Its own change, the newest in Redis (answers come in the order Redis ran the calls): a
      // count below what was applied began again since.
      this.#applied = replyNumber(r[0]);
      this.#warned = undefined;
    } catch (err) {
      // Not shared this time; the local breaker already acted.
      this.#failed(err);
    }
  }

  /**
   * An outage is the failure mode's business, said by the store's health; any other error
   * (WRONGTYPE: another program writes the key) stops the sharing until someone acts, so it is
   * said — once per error until a call succeeds, not at every sync.
   */
  #failed(err: unknown): void {
    if (err instanceof StoreUnavailableError) return;
    const why = String(err);
    if (why === this.#warned) return;
    this.#warned = why;
    process.emitWarning(`sluice: shared breaker ${this.breaker.name}: ${why} (the breaker acts alone; said once until a call succeeds)`, { code: 'SLUICE_STORE_ERROR' });
  }

  #apply(epoch: number, state: string, remainingMs: number): void {
    if (epoch <= this.#applied) return;
    this.#applied = epoch;
    const b = this.breaker;
    const local = b.state;
    if (local === 'forced-open' || local === 'disabled') return; // an operator's state wins here
    this.#applying = true;
    try {
      if (state === 'open' && remainingMs > 0) {
        const s = b.exportState();
        const now = b.clock.now();
        b.restoreState({ ...s, state: 'open', takenAt: now, openUntil: now + remainingMs, opens: Math.max(1, s.opens), probeSuccesses: 0, probeFailures: 0 });
      } else if (state === 'closed' && local !== 'closed') {
        b.reset();
      }
    } finally {
      this.#applying = false;
    }
  }
}
