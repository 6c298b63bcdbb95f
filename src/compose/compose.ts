/**
 * Gates in series (rate limit -> breaker -> concurrency) as one gate, walked by the chain
 * walker every composition shares (core/gate-chain.ts): each is asked in order; when a
 * later gate rejects, what the earlier ones granted is released with outcome 'ignored'
 * (the work never ran, so adaptive limits and breakers do not sample it). One wait budget
 * for the whole chain: a context's `maxWaitMs` bounds the sum of the waits, not each one.
 */
import { GateBase, InvalidArgumentError, InvalidOptionError, isPromise, readContext } from '../core/index.js';
import type { Admission, AdmissionContext, Gate, GateOptions, GatePermit, GateStats, Outcome, Permit } from '../core/index.js';
import { chainContext, releaseAll, tightest, walkChain } from '../core/gate-chain.js';
import type { ChainResult } from '../core/gate-chain.js';

export interface ComposeOptions extends GateOptions {
  /** The gates, asked in this order. At least one; all on the same clock. */
  readonly gates: readonly Gate[];
}

const GATE = 'a gate (an object with name and admit())';

/** Whether `g` can stand in the chain: read for its name and clock, asked with admit(). */
function isGate(g: unknown): boolean {
  const gate = g as Partial<Gate> | null;
  return typeof gate === 'object' && gate !== null && typeof gate.admit === 'function' && typeof gate.name === 'string';
}

export class ComposedGate extends GateBase {
  readonly kind: string = 'composed';
  readonly gates: readonly Gate[];
  #inFlight = 0;

  constructor(options: ComposeOptions) {
    if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new InvalidArgumentError('options', 'an object of ComposedGate options', options);
    if (!Array.isArray(options.gates as unknown)) throw new InvalidOptionError('gates', 'an array of gates', options.gates);
    const first = options.gates[0];
    if (first === undefined) throw new InvalidOptionError('gates', 'at least one gate', options.gates);
    options.gates.forEach((g: unknown, i) => {
      if (!isGate(g)) throw new InvalidOptionError(`gates[${i}]`, GATE, g);
    });
    super({ clock: first.clock, ...options }, options.gates.map((g) => g.name).join('+'));
    for (const g of options.gates) {
      if (g.clock !== this.clock) throw new InvalidOptionError('gates', `gates on one clock (${g.name} has another)`, g.name);
    }
    this.gates = [...options.gates];
  }

  admit(context?: AdmissionContext): Admission | Promise<Admission> {
    const ctx = chainContext(readContext(context, this), this.clock);
    if (this.closed) return this.reject('closed', Infinity, undefined, ctx);
    const startedAt = this.clock.now();
    const r = walkChain(this.gates, ctx);
    if (isPromise(r)) return r.then((x) => this.#settle(x, ctx, startedAt));
    return this.#settle(r, ctx, startedAt);
  }

  #settle(r: ChainResult, ctx: AdmissionContext, startedAt: number): Admission {
    if (r.rejection !== undefined) {
      if (this.closed) return this.reject('closed', Infinity, undefined, ctx);
      return this.reject(r.rejection.reason, r.rejection.retryAfterMs, r.rejection.facts, ctx);
    }
    if (this.closed) {
      releaseAll(r.permits, 'ignored');
      return this.reject('closed', Infinity, undefined, ctx);
    }
    this.#inFlight++;
    const now = this.clock.now();
    return this.grant(ctx, ctx.cost ?? 1, now - startedAt, tightest(r.facts), r.permits, now);
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

/** `compose(a, b, c)`: a gate that asks a, then b, then c. */
export function compose(...gates: Gate[]): ComposedGate {
  // The gates are its arguments: one that is not a gate is the caller's argument gone wrong.
  gates.forEach((g: unknown, i) => {
    if (!isGate(g)) throw new InvalidArgumentError(`gates[${i}]`, GATE, g);
  });
  return new ComposedGate({ gates });
}
