/** The permit of an admitted HTTP request: every gate's permit, released together, once. */
import type { Outcome, Permit, PolicyFacts } from '../core/types.js';
import { releaseAll } from './permit-chain.js';

export class HttpPermit implements Permit {
  readonly ok = true as const;
  released = false;
  constructor(
    readonly gate: string,
    readonly permits: readonly Permit[],
    /** Clock time of admission (0 when the policy does not track service time). */
    readonly grantedAt: number,
    /** Facts of every rate policy that metered the request, in order. */
    readonly allFacts: readonly PolicyFacts[],
  ) {}

  /** The tightest policy's facts (what a single RateLimit figure shows). */
  get facts(): PolicyFacts | undefined {
    let best: PolicyFacts | undefined;
    for (const f of this.allFacts) if (best === undefined || f.remaining / f.limit < best.remaining / best.limit) best = f;
    return best;
  }

  release(outcome: Outcome = 'success'): void {
    if (this.released) return;
    this.released = true;
    releaseAll(this.permits, outcome);
  }
}
