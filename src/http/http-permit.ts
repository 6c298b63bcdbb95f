/**
 * The permit of an admitted HTTP request: every gate's permit, released together, once.
 *
 * One owner ends it: the code that knows how the work ended, when it ended. An adapter
 * that runs the handler in-process (node:http, Express, Fastify) ends it when the response
 * closes; a proxy that forwards the request (the gateway) ends it when the upstream's
 * response is complete, with the upstream's status. `finish(status)` classifies a status
 * through the policy's `classify`; `release(outcome)` ends it any other way (a client gone,
 * a timeout). Either is the one call; a second is a no-op. Service time is measured by the
 * gates at that call (a concurrency gate's latency estimate, an adaptive limit's RTT).
 */
import type { Outcome, Permit, PolicyFacts } from '../core/types.js';
import { cancelAll, releaseAll, tightest } from '../core/gate-chain.js';
import { badRtt, rttError } from '../core/gate-base.js';
import { InvalidArgumentError } from '../core/errors.js';

export class HttpPermit implements Permit {
  readonly ok = true as const;
  released = false;
  /** Called once, right after the gates have their permits back (the gateway refills its queue then). */
  afterRelease: (() => void) | undefined = undefined;
  constructor(
    readonly gate: string,
    readonly permits: readonly Permit[],
    allFacts: readonly PolicyFacts[],
    /** What a response status means to the gates (the policy's `classify`). */
    readonly classify: (status: number) => Outcome,
  ) {
    // Built per admitted request by HttpAdmission; checked for a caller who builds one itself.
    if (typeof gate !== 'string') throw new InvalidArgumentError('gate', 'a gate name (a string)', gate);
    if (!Array.isArray(permits)) throw new InvalidArgumentError('permits', 'an array of permits', permits);
    if (!Array.isArray(allFacts)) throw new InvalidArgumentError('allFacts', 'an array of PolicyFacts', allFacts);
    if (typeof classify !== 'function') throw new InvalidArgumentError('classify', 'a function from a status to an outcome', classify);
    this.#facts = allFacts;
  }

  #facts: readonly PolicyFacts[];

  /**
   * Facts of every rate policy that metered the request, in order; after {@link cancel}, with the
   * units given back counted as not spent (a later refusal's RateLimit headers: HttpAdmission.laterRefusal).
   */
  get allFacts(): readonly PolicyFacts[] {
    return this.#facts;
  }

  /** The tightest policy's facts (what a single RateLimit figure shows). */
  get facts(): PolicyFacts | undefined {
    return tightest(this.allFacts);
  }

  /**
   * Time the owner added on purpose where the dependency would have taken it (the gateway's
   * injected fault delay), ms: counted in a `finish` that measured the dependency's time.
   */
  addedMs = 0;

  /**
   * The work ended with a response of `status`: released with the outcome `classify(status)` gives,
   * and `rttMs`, when given, as the dependency's own time (plus {@link addedMs}; Permit.release).
   */
  finish(status: number, rttMs?: number): void {
    this.release(this.classify(status), rttMs === undefined ? undefined : rttMs + this.addedMs);
  }

  /**
   * End a request that was refused after all (a gate asked later, once its body was in): every
   * permit released 'ignored', newest first, and what a rate gate spent given back — a refused
   * request spends no rate or quota, as when a later gate of the chain refuses (GatePermit.cancel).
   * {@link allFacts} then counts them as not spent.
   */
  cancel(): void {
    if (this.released) return;
    this.released = true;
    const facts = [...this.#facts];
    cancelAll(this.permits, facts);
    this.#facts = facts;
    this.afterRelease?.();
  }

  release(outcome: Outcome = 'success', rttMs?: number): void {
    if (this.released) return;
    this.released = true;
    const bad = badRtt(rttMs);
    releaseAll(this.permits, outcome, bad ? 0 : rttMs);
    this.afterRelease?.();
    if (bad) throw rttError(rttMs);
  }
}
