/**
 * Gates in series: the one walker behind `compose`, sluice/http's policies and the HTTP
 * client's per-origin gates. Each gate is asked in order; the walk keeps every permit (in
 * order) and every policy's facts seen on the way (a RateLimit header lists each policy
 * that metered the request, not only the tightest). A refusal, a throw or an abort releases
 * what earlier gates granted, newest first, with outcome 'ignored' (the work never ran, so
 * adaptive limits and breakers do not sample it); a throw or an abort is then passed on.
 *
 * Wait budget: ONE for the whole chain. A relative `maxWaitMs` becomes an absolute
 * `deadline` (the earlier of it and the context's own) when the walk starts, so a request
 * that waits at two gates waits at most `maxWaitMs` in all, never `maxWaitMs` at each.
 */
import type { Clock } from './clock.js';
import { isPromise } from './gate-base.js';
import type { Admission, AdmissionContext, Gate, Outcome, Permit, PolicyFacts, Rejection } from './types.js';

/** What the walk found: every permit (on success) or the refusal, and the facts seen on the way. */
export interface ChainResult {
  /** The permits granted, in the order of the gates; empty after a refusal. */
  readonly permits: Permit[];
  /** Facts of every rate policy that answered, in order (the refusing one's included). */
  readonly facts: PolicyFacts[];
  readonly rejection: Rejection | undefined;
  /** The gate that refused. */
  readonly refusedBy: Gate | undefined;
}

interface Walk {
  permits: Permit[];
  facts: PolicyFacts[];
  rejection: Rejection | undefined;
  refusedBy: Gate | undefined;
}

/** The context with its relative wait turned into the chain's one deadline (see the module comment). */
export function chainContext(ctx: AdmissionContext, clock: Clock): AdmissionContext {
  if (ctx.maxWaitMs === undefined) return ctx;
  const d = clock.now() + ctx.maxWaitMs;
  const { maxWaitMs: _relative, ...rest } = ctx;
  return { ...rest, deadline: ctx.deadline === undefined || d < ctx.deadline ? d : ctx.deadline };
}

/** Ask `gates` in order with `ctx` (already through {@link chainContext} when it may wait at several). Synchronous unless a gate makes it wait. */
export function walkChain(gates: readonly Gate[], ctx: AdmissionContext): ChainResult | Promise<ChainResult> {
  return step(gates, ctx, 0, { permits: [], facts: [], rejection: undefined, refusedBy: undefined });
}

function step(gates: readonly Gate[], ctx: AdmissionContext, from: number, acc: Walk): ChainResult | Promise<ChainResult> {
  for (let i = from; i < gates.length; i++) {
    const gate = gates[i]!;
    let a: Admission | Promise<Admission>;
    try {
      a = gate.admit(ctx);
    } catch (err) {
      releaseAll(acc.permits, 'ignored');
      throw err;
    }
    if (isPromise(a)) {
      return a.then(
        (answer) => (take(answer, gate, acc) ? step(gates, ctx, i + 1, acc) : acc),
        (err: unknown) => {
          releaseAll(acc.permits, 'ignored');
          throw err;
        },
      );
    }
    if (!take(a, gate, acc)) return acc;
  }
  return acc;
}

/** Record one answer; false when it is a refusal (earlier permits are then released). */
function take(a: Admission, gate: Gate, acc: Walk): boolean {
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

/** Release in reverse order of acquisition (skipping absent ones). */
export function releaseAll(permits: readonly (Permit | undefined)[], outcome: Outcome): void {
  for (let i = permits.length - 1; i >= 0; i--) permits[i]?.release(outcome);
}

/** The policy with the least remaining share of its quota: what a single RateLimit figure shows. */
export function tightest(facts: readonly (PolicyFacts | undefined)[]): PolicyFacts | undefined {
  let best: PolicyFacts | undefined;
  for (const f of facts) if (f !== undefined && (best === undefined || f.remaining / f.limit < best.remaining / best.limit)) best = f;
  return best;
}
