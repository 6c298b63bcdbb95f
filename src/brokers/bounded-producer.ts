/**
 * What every broker producer shares: a publish waits for the broker's own acknowledgement
 * (publisher confirm, publish ack, produce ack), at most `maxInFlight` publishes are
 * unacknowledged at once, at most `maxWaiting` callers wait for a slot (past that: a
 * RejectedError 'queue_full' at once), and an optional lag-driven throttle goes first. So a
 * stalled broker holds the producer back instead of filling its memory.
 */
import { AbortedError, InvalidOptionError, optInt, optionKeys, optKnownKeys } from '../core/index.js';
import { ConcurrencyGate } from '../concurrency/index.js';
import type { ProducerThrottle } from './producer-throttle.js';
import { deepFreeze } from '../core/deep-freeze.js';

export interface BoundedProducerOptions {
  /** Publishes sent and not yet acknowledged by the broker. Integer >= 1. @default 256 */
  readonly maxInFlight?: number;
  /** Callers waiting for an in-flight slot; past it a publish is refused at once. Integer >= 0. @default 1024 */
  readonly maxWaiting?: number;
  /** A lag-driven throttle asked before every publish. */
  readonly throttle?: ProducerThrottle;
}

export interface ProducerStats {
  readonly inFlight: number;
  readonly waiting: number;
  readonly published: number;
  readonly refused: number;
  readonly failed: number;
}

export const PRODUCER_DEFAULTS = deepFreeze({ maxInFlight: 256, maxWaiting: 1024 } as const);

const BOUNDED_KEYS = optionKeys<BoundedProducerOptions>({ maxInFlight: true, maxWaiting: true, throttle: true });

export class BoundedProducer {
  readonly #gate: ConcurrencyGate;
  readonly #throttle: ProducerThrottle | undefined;
  #published = 0;
  #refused = 0;
  #failed = 0;

  /** `owner` and `keys`: the option names of an adapter whose options extend these (its own error messages). */
  constructor(name: string, options: BoundedProducerOptions = {}, owner = 'BoundedProducer', keys: readonly string[] = BOUNDED_KEYS) {
    optKnownKeys(owner, options, keys);
    const limit = optInt('maxInFlight', options.maxInFlight ?? PRODUCER_DEFAULTS.maxInFlight, 1);
    const maxQueue = optInt('maxWaiting', options.maxWaiting ?? PRODUCER_DEFAULTS.maxWaiting, 0);
    this.#gate = new ConcurrencyGate({ name, limit, maxQueue });
    const throttle: unknown = options.throttle;
    // Anything without admit() would fail every publish with a TypeError naming nothing.
    if (throttle !== undefined && (typeof throttle !== 'object' || throttle === null || typeof (throttle as Partial<ProducerThrottle>).admit !== 'function')) {
      throw new InvalidOptionError('throttle', 'a ProducerThrottle (an object with admit())', throttle);
    }
    this.#throttle = options.throttle;
  }

  /** The name given at construction (the gate's). */
  get name(): string {
    return this.#gate.name;
  }

  stats(): ProducerStats {
    const g = this.#gate.stats();
    return { inFlight: g.inFlight, waiting: g.queued, published: this.#published, refused: this.#refused, failed: this.#failed };
  }

  /** Throttle, then a slot, then `send` (which resolves on the broker's acknowledgement). */
  async run<T>(send: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw new AbortedError(this.name, signal.reason);
    try {
      await this.#throttle?.admit(signal);
    } catch (err) {
      this.#refused++;
      throw err;
    }
    let permit;
    try {
      permit = await this.#gate.acquire(signal === undefined ? {} : { signal });
    } catch (err) {
      this.#refused++;
      throw err;
    }
    try {
      const r = await send();
      this.#published++;
      permit.release('success');
      return r;
    } catch (err) {
      this.#failed++;
      permit.release('failure');
      throw err;
    }
  }
}
