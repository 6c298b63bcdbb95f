/**
 * Client-side adaptive throttling (Google, "Site Reliability Engineering", ch. 21,
 * "Handling Overload"). Over a sliding window the client counts `requests` (every call the
 * application asked for, including those this gate refused) and `accepts` (calls the
 * backend accepted), and refuses a new call locally with probability
 *
 *   p = max(0, (requests − K × accepts) / (requests + 1))
 *
 * While the backend accepts everything, p = 0; as it starts refusing, the client sheds the
 * excess locally, and lets through about K times what the backend accepts, so the backend
 * keeps seeing enough traffic to notice recovery. K = 2 and a 2-minute window are the
 * book's values; a lower K is more aggressive.
 *
 * Refusals carry reason 'overloaded' (the backend is, as far as this client can tell; not
 * 'rate_limited', which sluice reserves for a policy's quota) and `retryAfterMs` = one
 * bucket of the window, the soonest the counts behind p are sure to move on their own.
 *
 * Releasing: 'success' counts an accept; 'failure' and 'dropped' do not (classify an
 * application error the backend did answer — a 404 — as 'success': it was accepted);
 * 'ignored' takes the request back out of the count (the call never reached the backend).
 */
import { GateBase, InvalidOptionError, optFunction, optInt, optionKeys, optKnownKeys, optNumber, readContext } from '../core/index.js';
import { abortError } from '../core/gate-base.js';
import type { Admission, AdmissionContext, GateOptions, GatePermit, GateStats, Outcome } from '../core/index.js';
import { SlidingCounts } from './sliding-counts.js';
import { deepFreeze } from '../core/deep-freeze.js';

export interface AdaptiveThrottleOptions extends GateOptions {
  /** K: accepts are multiplied by it. >= 1 (lower sheds more). @default 2 */
  readonly k?: number;
  /** Window length, ms. > 0, finite. @default 120_000 */
  readonly windowMs?: number;
  /** Buckets the window is cut into. Integer in [1, 10_000]. @default 60 */
  readonly buckets?: number;
  /** Uniform random in [0, 1). @default Math.random */
  readonly random?: () => number;
}

export const ADAPTIVE_THROTTLE_DEFAULTS = deepFreeze({ k: 2, windowMs: 120_000, buckets: 60 } as const);

export interface AdaptiveThrottleStats extends GateStats {
  /** Requests in the window (refused ones included). */
  readonly requests: number;
  /** Accepts in the window. */
  readonly accepts: number;
  /** The refusal probability a call would face now. */
  readonly probability: number;
}

const REQUESTS = 0;
const ACCEPTS = 1;

const THROTTLE_KEYS = optionKeys<AdaptiveThrottleOptions>({ name: true, clock: true, windowMs: true, random: true, buckets: true, k: true });

export class AdaptiveThrottle extends GateBase {
  readonly kind: string = 'adaptive-throttle';
  readonly k: number;
  readonly #counts: SlidingCounts;
  readonly #random: () => number;
  #inFlight = 0;

  constructor(options: AdaptiveThrottleOptions = {}) {
    super(options, 'adaptive-throttle');
    optKnownKeys('AdaptiveThrottle', options, THROTTLE_KEYS);
    this.k = optNumber('k', options.k ?? ADAPTIVE_THROTTLE_DEFAULTS.k, 1, Number.MAX_VALUE);
    const windowMs = optNumber('windowMs', options.windowMs ?? ADAPTIVE_THROTTLE_DEFAULTS.windowMs, Number.MIN_VALUE);
    if (windowMs === Infinity) throw new InvalidOptionError('windowMs', 'a finite number > 0', windowMs);
    const buckets = optInt('buckets', options.buckets ?? ADAPTIVE_THROTTLE_DEFAULTS.buckets, 1, 10_000);
    optFunction('random', options.random);
    this.#random = options.random ?? Math.random;
    this.#counts = new SlidingCounts(windowMs, buckets, 2, this.clock.now());
  }

  /** The refusal probability now: max(0, (requests − K·accepts) / (requests + 1)). */
  probability(): number {
    const now = this.clock.now();
    return this.#p(this.#counts.total(REQUESTS, now), this.#counts.total(ACCEPTS, now));
  }

  admit(context?: AdmissionContext): Admission {
    const ctx = readContext(context, this);
    if (this.closed) return this.reject('closed', Infinity, undefined, ctx);
    // An aborted caller is refused even when it would be admitted (as every gate does).
    if (ctx.signal?.aborted) throw abortError(this.name, ctx.signal);
    const now = this.clock.now();
    const p = this.#p(this.#counts.total(REQUESTS, now), this.#counts.total(ACCEPTS, now));
    const epoch = this.#counts.add(REQUESTS, 1, now);
    // Draw only when p > 0: a healthy backend costs no random numbers.
    if (p > 0 && this.#random() < p) return this.reject('overloaded', this.#counts.bucketMs, undefined, ctx);
    this.#inFlight++;
    return this.grant(ctx, 1, 0, undefined, epoch, now);
  }

  override onRelease(permit: GatePermit, outcome: Outcome): void {
    this.#inFlight--;
    if (outcome === 'success') this.#counts.add(ACCEPTS, 1, this.clock.now());
    else if (outcome === 'ignored') this.#counts.remove(REQUESTS, 1, permit.tag as number, this.clock.now());
    super.onRelease(permit, outcome);
  }

  stats(): AdaptiveThrottleStats {
    const now = this.clock.now();
    const requests = this.#counts.total(REQUESTS, now);
    const accepts = this.#counts.total(ACCEPTS, now);
    return {
      ...this.baseStats(),
      inFlight: this.#inFlight,
      queued: 0,
      limit: Infinity,
      tokens: undefined,
      requests,
      accepts,
      probability: this.#p(requests, accepts),
    };
  }

  close(): void {
    this.closed = true;
  }

  #p(requests: number, accepts: number): number {
    const p = (requests - this.k * accepts) / (requests + 1);
    return p > 0 ? p : 0;
  }
}
