/**
 * Asking the policy's gates in order (route-gates.ts), keeping every permit and every
 * policy's facts: a RateLimit header lists each policy that metered the request, not only
 * the tightest, so this walks the gates itself rather than through `compose`. A later
 * refusal releases what earlier gates granted with outcome 'ignored' (the work never ran),
 * as `compose` does; a throw or an abort does the same and passes the error on.
 */
import { isPromise } from '../core/gate-base.js';
import type { Admission, AdmissionContext, Gate, Outcome, Permit, PolicyFacts, Rejection } from '../core/types.js';

/** What the chain found: every permit (on success) or the refusal, and the facts seen on the way. */
export interface ChainResult {
  readonly permits: Permit[];
  readonly facts: PolicyFacts[];
  readonly rejection: Rejection | undefined;
  /** The gate that refused. */
  readonly refusedBy: Gate | undefined;
}

export function runChain(gates: readonly Gate[], ctx: AdmissionContext): ChainResult | Promise<ChainResult> {
  return step(gates, ctx, 0, { permits: [], facts: [], rejection: undefined, refusedBy: undefined });
}

interface MutableResult {
  permits: Permit[];
  facts: PolicyFacts[];
  rejection: Rejection | undefined;
  refusedBy: Gate | undefined;
}

function step(gates: readonly Gate[], ctx: AdmissionContext, from: number, acc: MutableResult): ChainResult | Promise<ChainResult> {
  for (let i = from; i < gates.length; i++) {
    let a: Admission | Promise<Admission>;
    try {
      a = gates[i]!.admit(ctx);
    } catch (err) {
      releaseAll(acc.permits, 'ignored');
      throw err;
    }
    if (isPromise(a)) {
      return a.then(
        (answer) => (take(answer, gates[i]!, acc) ? step(gates, ctx, i + 1, acc) : acc),
        (err: unknown) => {
          releaseAll(acc.permits, 'ignored');
          throw err;
        },
      );
    }
    if (!take(a, gates[i]!, acc)) return acc;
  }
  return acc;
}

/** Record one answer; false when it is a refusal (earlier permits are then released). */
function take(a: Admission, gate: Gate, acc: MutableResult): boolean {
  if (a.facts !== undefined) acc.facts.push(a.facts);
  if (a.ok) {
    acc.permits.push(a);
    return true;
  }
  releaseAll(acc.permits, 'ignored');
  acc.permits = [];
  acc.rejection = a;
  acc.refusedBy = gate;
  return false;
}

/** Release in reverse order of acquisition. */
export function releaseAll(permits: readonly Permit[], outcome: Outcome): void {
  for (let i = permits.length - 1; i >= 0; i--) permits[i]!.release(outcome);
}
