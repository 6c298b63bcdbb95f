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
import { badRtt, GatePermit, isPromise, rttError } from './gate-base.js';
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

/**
 * What a caller makes of a walk that had to wait: `done` with its result, `failed` with what a
 * gate threw or rejected with (earlier permits already released). Given to walkChain, they run
 * in the walk's own continuation: no second promise and microtask per wait (a queued request
 * used to pass through three).
 */
export interface ChainThen<T> {
  done(r: ChainResult): T;
  failed(err: unknown): T;
}

/** The continuation of a walk without one: the result as it is, a failure thrown on. */
const AS_IS: ChainThen<ChainResult> = {
  done: (r) => r,
  failed: (err) => {
    throw err;
  },
};

/**
 * Ask `gates` in order with `ctx` (already through {@link chainContext} when it may wait at
 * several). Synchronous unless a gate makes it wait; a synchronous result is returned as it
 * is (and a gate's throw thrown), a wait's goes through `then` (see {@link ChainThen}).
 */
export function walkChain(gates: readonly Gate[], ctx: AdmissionContext): ChainResult | Promise<ChainResult>;
export function walkChain<T>(gates: readonly Gate[], ctx: AdmissionContext, then: ChainThen<T>): ChainResult | Promise<T>;
export function walkChain<T>(gates: readonly Gate[], ctx: AdmissionContext, then?: ChainThen<T>): ChainResult | Promise<T | ChainResult> {
  return step<T | ChainResult>(gates, ctx, 0, { permits: [], facts: [], rejection: undefined, refusedBy: undefined }, then ?? AS_IS);
}

function step<T>(gates: readonly Gate[], ctx: AdmissionContext, from: number, acc: Walk, then: ChainThen<T>): ChainResult | Promise<T> {
  for (let i = from; i < gates.length; i++) {
    const gate = gates[i]!;
    let a: Admission | Promise<Admission>;
    try {
      a = gate.admit(ctx);
    } catch (err) {
      cancelAll(acc.permits);
      throw err;
    }
    if (isPromise(a)) {
      return a.then(
        (answer) => {
          let r: ChainResult | Promise<T>;
          try {
            r = take(answer, gate, acc) ? step(gates, ctx, i + 1, acc, then) : acc;
          } catch (err) {
            // A later gate threw (its permits are released): the caller's failure, as a rejection was.
            return then.failed(err);
          }
          return isPending(r) ? r : then.done(r);
        },
        (err: unknown) => {
          cancelAll(acc.permits);
          return then.failed(err);
        },
      );
    }
    if (!take(a, gate, acc)) return acc;
  }
  return acc;
}

/** Whether a walk's answer is still to come (a gate's thenable, not only a native Promise). */
export function isPending<T>(r: ChainResult | PromiseLike<T> | Promise<T>): r is Promise<T> {
  return typeof (r as { then?: unknown }).then === 'function';
}

/** Record one answer; false when it is a refusal (earlier permits are then released). */
function take(a: Admission, gate: Gate, acc: Walk): boolean {
  if (a.facts !== undefined) acc.facts.push(a.facts);
  if (a.ok) {
    acc.permits.push(a);
    return true;
  }
  cancelAll(acc.permits, acc.facts);
  acc.permits = [];
  acc.rejection = a;
  acc.refusedBy = gate;
  return false;
}

/**
 * A refusal's release of what earlier gates granted: newest first, each cancelled (its units
 * given back). In `facts` (the request's, as metered), a permit's whose units came back is
 * replaced by {@link refunded}: a refusal's RateLimit headers count no unit it did not spend.
 */
export function cancelAll(permits: readonly Permit[], facts?: PolicyFacts[]): void {
  for (let i = permits.length - 1; i >= 0; i--) {
    const p = permits[i]!;
    if (!(p instanceof GatePermit)) p.release('ignored');
    else if (p.cancel() && facts !== undefined && p.facts !== undefined) {
      const at = facts.indexOf(p.facts);
      if (at >= 0) facts[at] = refunded(p.facts, p.cost);
    }
  }
}

/**
 * `f` as metered, with `cost` units given back: `remaining` up by them (at most `limit`), and
 * `resetMs` 0 once that is the whole limit, else as metered — an upper bound: the facts alone do
 * not say how much sooner the refund makes it (a bucket's by the units' refill time, a window's maybe not at all).
 */
function refunded(f: PolicyFacts, cost: number): PolicyFacts {
  const remaining = f.remaining + cost < f.limit ? f.remaining + cost : f.limit;
  return { ...f, remaining, resetMs: remaining === f.limit ? 0 : f.resetMs };
}

/** Release in reverse order of acquisition (skipping absent ones); a bad `rttMs` throws once all are back. */
export function releaseAll(permits: readonly (Permit | undefined)[], outcome: Outcome, rttMs?: number): void {
  const bad = badRtt(rttMs);
  for (let i = permits.length - 1; i >= 0; i--) permits[i]?.release(outcome, bad ? 0 : rttMs);
  if (bad) throw rttError(rttMs);
}

/** The policy with the least remaining share of its quota: what a single RateLimit figure shows. */
export function tightest(facts: readonly (PolicyFacts | undefined)[]): PolicyFacts | undefined {
  let best: PolicyFacts | undefined;
  for (const f of facts) if (f !== undefined && (best === undefined || f.remaining / f.limit < best.remaining / best.limit)) best = f;
  return best;
}
