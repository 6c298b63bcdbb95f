/**
 * Gates in series (rate limit -> breaker -> concurrency): each is asked in order; when a
 * later gate rejects, what the earlier ones granted is released with outcome 'ignored'
 * (the work never ran, so adaptive limits and breakers do not sample it).
 */
import { GateBase, InvalidOptionError, isPromise, readContext } from '../core/index.js';
import type { Admission, AdmissionContext, Gate, GateOptions, GatePermit, GateStats, Outcome, Permit, PolicyFacts } from '../core/index.js';

export interface ComposeOptions extends GateOptions {
  /** The gates, asked in this order. At least one; all on the same clock. */
  readonly gates: readonly Gate[];
}

export class ComposedGate extends GateBase {
  readonly kind: string = 'composed';
  readonly gates: readonly Gate[];
  #inFlight = 0;

  constructor(options: ComposeOptions) {
    const first = options.gates[0];
    if (first === undefined) throw new InvalidOptionError('gates', 'at least one gate', options.gates);
    super({ clock: first.clock, ...options }, options.gates.map((g) => g.name).join('+'));
    for (const g of options.gates) {
      if (g.clock !== this.clock) throw new InvalidOptionError('gates', `gates on one clock (${g.name} has another)`, g.name);
    }
    this.gates = [...options.gates];
  }

  admit(context?: AdmissionContext): Admission | Promise<Admission> {
    let ctx = readContext(context);
    if (this.closed) return this.reject('closed', Infinity, undefined, ctx);
    // One wait budget for the whole chain: turn a relative wait into an absolute deadline.
    if (ctx.maxWaitMs !== undefined) {
      const d = this.clock.now() + ctx.maxWaitMs;
      const { maxWaitMs: _drop, ...rest } = ctx;
      ctx = { ...rest, deadline: ctx.deadline === undefined ? d : Math.min(d, ctx.deadline) };
    }
    return this.#step(ctx, 0, [], this.clock.now());
  }

  #step(ctx: AdmissionContext, i: number, held: Permit[], startedAt: number): Admission | Promise<Admission> {
    for (; i < this.gates.length; i++) {
      const answer = this.gates[i]!.admit(ctx);
      if (isPromise(answer)) {
        const at = i;
        return answer.then(
          (a) => this.#after(a, ctx, at, held, startedAt),
          (err: unknown) => {
            releaseAll(held, 'ignored');
            throw err;
          },
        );
      }
      if (!answer.ok) return this.#fail(answer, held, ctx);
      held.push(answer);
    }
    return this.#success(ctx, held, startedAt);
  }

  #after(a: Admission, ctx: AdmissionContext, i: number, held: Permit[], startedAt: number): Admission | Promise<Admission> {
    if (!a.ok) return this.#fail(a, held, ctx);
    held.push(a);
    return this.#step(ctx, i + 1, held, startedAt);
  }

  #fail(rejection: Admission & { ok: false }, held: Permit[], ctx: AdmissionContext): Admission {
    releaseAll(held, 'ignored');
    if (this.closed) return this.reject('closed', Infinity, undefined, ctx);
    return this.reject(rejection.reason, rejection.retryAfterMs, rejection.facts, ctx);
  }

  #success(ctx: AdmissionContext, held: Permit[], startedAt: number): Admission {
    if (this.closed) {
      releaseAll(held, 'ignored');
      return this.reject('closed', Infinity, undefined, ctx);
    }
    this.#inFlight++;
    return this.grant(ctx, ctx.cost ?? 1, this.clock.now() - startedAt, tightest(held), held);
  }

  override onRelease(permit: GatePermit, outcome: Outcome): void {
    this.#inFlight--;
    releaseAll(permit.tag as Permit[], outcome);
    super.onRelease(permit, outcome);
  }

  stats(): GateStats {
    let queued = 0;
    let limit = Infinity;
    for (const g of this.gates) {
      const s = g.stats();
      queued += s.queued;
      if (s.limit < limit) limit = s.limit;
    }
    return { ...this.baseStats(), inFlight: this.#inFlight, queued, limit, tokens: undefined };
  }

  /** Stats of every member gate, in order. */
  memberStats(): GateStats[] {
    return this.gates.map((g) => g.stats());
  }

  /** Closes the composition and every member gate. */
  close(): void {
    this.closed = true;
    for (const g of this.gates) g.close();
  }
}

/** Release in reverse order of acquisition. */
function releaseAll(held: readonly Permit[], outcome: Outcome): void {
  for (let i = held.length - 1; i >= 0; i--) held[i]!.release(outcome);
}

/** The policy with the least remaining quota speaks for the chain (what a RateLimit header shows). */
function tightest(held: readonly Permit[]): PolicyFacts | undefined {
  let best: PolicyFacts | undefined;
  for (const p of held) {
    const f = p.facts;
    if (f !== undefined && (best === undefined || f.remaining / f.limit < best.remaining / best.limit)) best = f;
  }
  return best;
}

/** `compose(a, b, c)`: a gate that asks a, then b, then c. */
export function compose(...gates: Gate[]): ComposedGate {
  return new ComposedGate({ gates });
}
