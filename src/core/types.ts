/**
 * The one contract: a gate is asked for admission with a context and answers with a permit
 * or a rejection. Rejections are values on the hot path; `acquire()` turns them into
 * {@link RejectedError}s for callers who prefer to await.
 */
import type { Clock } from './clock.js';
import { deepFreeze } from './deep-freeze.js';

/** How admitted work ended. Adaptive limits and breakers read it; `ignored` is not sampled. */
export type Outcome = 'success' | 'failure' | 'dropped' | 'ignored';

export type RejectionReason =
  | 'rate_limited'
  | 'concurrency'
  | 'queue_full'
  | 'queue_timeout'
  | 'circuit_open'
  | 'shed'
  | 'overloaded'
  | 'quota'
  | 'keys_full'
  | 'store_unavailable'
  | 'closed';

export const REJECTION_REASONS: readonly RejectionReason[] = deepFreeze([
  'rate_limited',
  'concurrency',
  'queue_full',
  'queue_timeout',
  'circuit_open',
  'shed',
  'overloaded',
  'quota',
  'keys_full',
  'store_unavailable',
  'closed',
]);

/** What a caller asks with. Every field is optional. */
export interface AdmissionContext {
  /** Tenant / partition key for keyed gates. */
  readonly key?: string;
  /** Finite number; higher is served first by priority disciplines. @default 0 */
  readonly priority?: number;
  /** Units this request consumes (tokens, slots). Finite, >= 1. @default 1 */
  readonly cost?: number;
  /** Absolute deadline on the gate's clock (`clock.now()` milliseconds). No wait extends past it. */
  readonly deadline?: number;
  /** Longest this caller will wait, in ms, relative to now; combined with `deadline` (the earlier wins). */
  readonly maxWaitMs?: number;
  /** Named partition of a partitioned concurrency gate. */
  readonly partition?: string;
  /** Abort removes a waiter at once; its promise rejects with AbortedError. */
  readonly signal?: AbortSignal;
}

/**
 * The facts a RateLimit / RateLimit-Policy header needs (IETF draft: q, w, r, t).
 */
export interface PolicyFacts {
  /** Policy name. */
  readonly policy: string;
  /** Quota units per window (`q`). */
  readonly limit: number;
  /** Units left now (`r`), floored at 0. */
  readonly remaining: number;
  /** Window length in ms (`w`). */
  readonly windowMs: number;
  /** Ms until the quota is fully available again (`t`). */
  readonly resetMs: number;
}

export interface Permit {
  readonly ok: true;
  /** Name of the gate that granted it (the last gate for a composed permit). */
  readonly gate: string;
  readonly facts: PolicyFacts | undefined;
  /** True once released. */
  readonly released: boolean;
  /**
   * Release once with the outcome; later calls are no-ops. @default 'success'
   * `rttMs`: the dependency's own time for this work, when its owner measured one apart from
   * its own delays (a proxy: request written to response read, less its loop's lateness). An
   * adaptive limit samples it instead of grant to release; a value <= 0 is no sample.
   */
  release(outcome?: Outcome, rttMs?: number): void;
}

export interface Rejection {
  readonly ok: false;
  readonly gate: string;
  readonly reason: RejectionReason;
  /** When retrying may succeed, from the gate's own state. `Infinity`: retrying will not help. */
  readonly retryAfterMs: number;
  readonly facts: PolicyFacts | undefined;
  /** Why, in words, when the reason alone does not say it (a concurrency gate with no wait queue). */
  readonly detail?: string | undefined;
}

export type Admission = Permit | Rejection;

/** A stats snapshot; plain data. */
export interface GateStats {
  readonly name: string;
  readonly kind: string;
  readonly inFlight: number;
  readonly queued: number;
  /** Concurrency limit, or bucket capacity for rate gates. */
  readonly limit: number;
  /** Tokens available now (rate gates); undefined elsewhere. */
  readonly tokens: number | undefined;
  readonly admitted: number;
  readonly released: number;
  readonly rejected: Readonly<Record<RejectionReason, number>>;
  /** Items or waiters removed by a policy after being accepted (drop-oldest, CoDel, ...). */
  readonly dropped: number;
  readonly closed: boolean;
}

export interface Gate {
  readonly name: string;
  readonly clock: Clock;
  /**
   * The value API. Returns synchronously when the answer is immediate; a promise when the
   * caller waits. Throws InvalidArgumentError synchronously on a bad context.
   */
  admit(ctx?: AdmissionContext): Admission | Promise<Admission>;
  /** The awaiting API: resolves a permit or rejects with RejectedError / AbortedError / ClosedError. */
  acquire(ctx?: AdmissionContext): Promise<Permit>;
  stats(): GateStats;
  /** Stop admitting; waiters settle with a `closed` rejection. Idempotent. */
  close(): void;
}
