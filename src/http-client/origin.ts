/**
 * One origin's gates, plus its retry budget and retry policies. The adaptive throttle is asked
 * once per call, before any attempt (see {@link OriginGates.admitCall}); each attempt then
 * goes through pacer → circuit breaker → concurrency limit, in that order (a pacing wait
 * holds no in-flight slot), walked by the chain walker every composition shares
 * (core/gate-chain.ts: one wait budget for the whole attempt). Each gate is released with
 * its own outcome, since they read a response differently (a 429 is the server's quota,
 * not a failure for the breaker).
 */
import { AdaptiveThrottle } from '../retry/index.js';
import { RetryBudget, RetryPolicy } from '../retry/index.js';
import type { AdaptiveThrottleStats, RetryBudgetStats } from '../retry/index.js';
import { CircuitBreaker } from '../breaker/index.js';
import type { BreakerStats } from '../breaker/index.js';
import { ConcurrencyGate } from '../concurrency/index.js';
import { isPromise, rejectionError } from '../core/index.js';
import type { AdmissionContext, Gate, GateStats, Outcome, Permit } from '../core/index.js';
import { chainContext, walkChain } from '../core/gate-chain.js';
import type { HttpClientConfig } from './options.js';
import { Pacer } from './pacer.js';
import type { PacerStats } from './pacer.js';
import type { ServerQuota } from './rate-limit-headers.js';
import { isTimeout, retryOptions } from './retry-rules.js';

/** Permits held for one attempt. */
export interface Held {
  readonly pacer: Permit | undefined;
  readonly breaker: Permit | undefined;
  readonly concurrency: Permit;
}

/** What one origin's gates look like now. */
export interface OriginStats {
  readonly origin: string;
  /** Calls running now (admission, attempts and backoff). */
  readonly active: number;
  readonly pacer: PacerStats | undefined;
  readonly throttle: AdaptiveThrottleStats | undefined;
  readonly breaker: BreakerStats | undefined;
  readonly concurrency: GateStats;
  readonly budget: RetryBudgetStats | undefined;
}

export class OriginGates {
  readonly pacer: Pacer | undefined;
  readonly throttle: AdaptiveThrottle | undefined;
  readonly breaker: CircuitBreaker | undefined;
  readonly concurrency: ConcurrencyGate;
  readonly budget: RetryBudget | undefined;
  /** For calls that may be retried; undefined when the client does not retry. */
  readonly retry: RetryPolicy | undefined;
  /** For calls that may not: one attempt, the same deadline handling, counted by the budget. */
  readonly once: RetryPolicy;
  active = 0;
  /** The gates of one attempt, in order: pacer, breaker, concurrency. */
  readonly #attempt: readonly Gate[];

  constructor(
    readonly origin: string,
    c: HttpClientConfig,
  ) {
    const clock = c.clock;
    const name = (part: string): string => `${c.name}:${part}:${origin}`;
    this.pacer = c.pacing === undefined ? undefined : new Pacer({ ...c.pacing, clock, name: name('pacer') });
    this.throttle = c.throttle === undefined ? undefined : new AdaptiveThrottle({ ...c.throttle, clock, name: name('throttle') });
    this.breaker = c.breaker === undefined ? undefined : new CircuitBreaker({ ...c.breaker, clock, name: name('breaker') });
    this.concurrency = new ConcurrencyGate({ limit: c.concurrency, maxQueue: c.maxQueue, clock, name: name('concurrency') });
    this.budget = c.budget === undefined ? undefined : new RetryBudget({ ...c.budget, clock });
    const base = retryOptions(c, this.budget);
    this.retry = c.retry === undefined ? undefined : new RetryPolicy({ ...c.retry, ...base });
    this.once = new RetryPolicy({ ...base, maxAttempts: 1 });
    this.#attempt = [...(this.pacer ? [this.pacer] : []), ...(this.breaker ? [this.breaker] : []), this.concurrency];
  }

  gates(): Gate[] {
    const out: Gate[] = [];
    if (this.pacer !== undefined) out.push(this.pacer);
    if (this.throttle !== undefined) out.push(this.throttle);
    if (this.breaker !== undefined) out.push(this.breaker);
    out.push(this.concurrency);
    return out;
  }

  /**
   * The throttle's ticket for a whole call: the SRE book's throttle counts the application's
   * requests and the backend's accepts, so a call that is retried to success is one request
   * and one accept (counting attempts would also refuse half the retries of a client whose
   * first call failed: p = (1 − 0) / (1 + 1)). Throws RejectedError ('overloaded') when shed.
   */
  admitCall(): Permit | undefined {
    if (this.throttle === undefined) return undefined;
    const a = this.throttle.admit();
    if (!a.ok) throw rejectionError(a);
    return a;
  }

  /** Admission of one attempt through every gate; a refusal releases what was granted ('ignored') and throws RejectedError. */
  async admit(ctx: AdmissionContext): Promise<Held> {
    let r = walkChain(this.#attempt, chainContext(ctx, this.concurrency.clock));
    if (isPromise(r)) r = await r;
    if (r.rejection !== undefined) throw rejectionError(r.rejection);
    const p = r.permits;
    let i = 0;
    const pacer = this.pacer === undefined ? undefined : p[i++];
    const breaker = this.breaker === undefined ? undefined : p[i++];
    return { pacer, breaker, concurrency: p[i]! };
  }

  /** A response arrived: pace by its headers and release every gate with the outcome it should see. */
  settle(held: Held, status: number, quotas: readonly ServerQuota[], retryAfterMs: number | undefined): void {
    if (held.pacer !== undefined) {
      this.pacer!.observe(held.pacer, quotas, retryAfterMs);
      held.pacer.release('success');
    }
    // A 429 is this client's quota, not the origin failing: the pacer deals with it.
    held.breaker?.release(status === 429 ? 'ignored' : status >= 500 || status === 408 ? 'failure' : 'success');
    held.concurrency.release('success');
  }

  /** The fetch threw: a timeout is 'dropped', the caller's abort 'ignored', anything else (a network error) 'failure'. */
  settleError(held: Held, signal: AbortSignal): void {
    const outcome: Outcome = !signal.aborted ? 'failure' : isTimeout(signal.reason) ? 'dropped' : 'ignored';
    held.pacer?.release(outcome === 'ignored' ? 'ignored' : 'success');
    held.breaker?.release(outcome);
    held.concurrency.release(outcome);
  }

  stats(): OriginStats {
    return {
      origin: this.origin,
      active: this.active,
      pacer: this.pacer?.stats(),
      throttle: this.throttle?.stats(),
      breaker: this.breaker?.stats(),
      concurrency: this.concurrency.stats(),
      budget: this.budget?.stats(),
    };
  }

  close(): void {
    for (const g of this.gates()) g.close();
  }
}
