/**
 * Rate policies: plain data, validated once. A policy says *how much* (rate and burst, or
 * limit per window); the algorithm functions say *how it is metered*; a store holds the
 * per-key state. Being plain data, a policy can be sent to a remote store (Redis) as is.
 */
import { InvalidOptionError } from '../core/errors.js';
import { optNumber, optOneOf } from '../core/options.js';
import { optionKeys, optKnownKeys } from '../core/option-keys.js';
import { deepFreeze } from '../core/deep-freeze.js';

export type RateAlgorithmName = 'token-bucket' | 'gcra' | 'sliding-window';

export const RATE_ALGORITHMS: readonly RateAlgorithmName[] = deepFreeze(['token-bucket', 'gcra', 'sliding-window']);

/** Defaults shared by every policy. */
export const POLICY_DEFAULTS = deepFreeze({
  /** Rate policies count per second unless told otherwise. */
  perMs: 1000,
} as const);

/** Fields of a token-bucket or GCRA policy as the caller writes them. */
export interface BucketPolicyInput {
  /** Units replenished per `perMs`. Finite, > 0. */
  readonly rate: number;
  /** Length of the rate's period, ms. Finite, > 0. @default 1000 */
  readonly perMs?: number;
  /** Largest burst: bucket capacity in units. Finite, >= 1. @default max(1, rate) */
  readonly burst?: number;
  /** Policy name reported in facts (RateLimit-Policy). @default the gate's name */
  readonly name?: string;
}

/** Fields of a sliding-window policy as the caller writes them. */
export interface WindowPolicyInput {
  /** Units allowed per window. Finite, >= 1. */
  readonly limit: number;
  /** Window length, ms. Finite, > 0. */
  readonly windowMs: number;
  /** Policy name reported in facts (RateLimit-Policy). @default the gate's name */
  readonly name?: string;
}

export type RatePolicyInput =
  | ({ readonly algorithm: 'token-bucket' } & BucketPolicyInput)
  | ({ readonly algorithm: 'gcra' } & BucketPolicyInput)
  | ({ readonly algorithm: 'sliding-window' } & WindowPolicyInput);

/** A validated token-bucket policy. */
export interface TokenBucketPolicy {
  readonly algorithm: 'token-bucket';
  readonly name: string;
  readonly rate: number;
  readonly perMs: number;
  readonly burst: number;
}

/** A validated GCRA policy. */
export interface GcraPolicy {
  readonly algorithm: 'gcra';
  readonly name: string;
  readonly rate: number;
  readonly perMs: number;
  readonly burst: number;
}

/** A validated sliding-window policy. */
export interface SlidingWindowPolicy {
  readonly algorithm: 'sliding-window';
  readonly name: string;
  readonly limit: number;
  readonly windowMs: number;
}

/** A validated, frozen policy: what stores and algorithm functions take. */
export type RatePolicy = TokenBucketPolicy | GcraPolicy | SlidingWindowPolicy;

const validated = new WeakSet<object>();

const BUCKET_FIELDS = ['rate', 'perMs', 'burst'] as const;
const WINDOW_FIELDS = ['limit', 'windowMs'] as const;

const POLICY_KEYS = optionKeys<RatePolicyInput>({ algorithm: true, name: true, rate: true, perMs: true, burst: true, limit: true, windowMs: true });

/**
 * Validate a policy once and return it frozen. `option` prefixes the field names in errors
 * ('' for none). A policy this function returned passes
 * through unchanged, so callers may pre-validate shared policies. Throws InvalidOptionError
 * naming `option.field`; a field that belongs to another algorithm (a `limit` on a token
 * bucket) is a contradiction, reported as an error rather than ignored.
 */
export function ratePolicy(input: RatePolicyInput, option = 'policy', defaultName?: string): RatePolicy {
  if (typeof input !== 'object' || input === null) throw new InvalidOptionError(option, 'a rate policy object', input);
  if (validated.has(input)) return input as RatePolicy;
  const at = (field: string): string => (option === '' ? field : `${option}.${field}`);
  const algorithm = optOneOf(at('algorithm'), input.algorithm, RATE_ALGORITHMS);
  const raw = input as unknown as Record<string, unknown>;
  // A gate passes its own options as the policy (option ''): the gate checks those keys itself.
  if (option !== '') optKnownKeys('rate policy', raw, POLICY_KEYS, `${option}.`);
  const name = raw['name'] ?? defaultName ?? algorithm;
  if (typeof name !== 'string' || name.length === 0) throw new InvalidOptionError(at('name'), 'a non-empty string', name);
  let policy: RatePolicy;
  if (algorithm === 'sliding-window') {
    forbid(raw, at, algorithm, BUCKET_FIELDS);
    const limit = optNumber(at('limit'), raw['limit'], 1, Number.MAX_VALUE);
    const windowMs = optNumber(at('windowMs'), raw['windowMs'], Number.MIN_VALUE, MAX_UNIT_MS);
    policy = { algorithm, name, limit, windowMs };
  } else {
    forbid(raw, at, algorithm, WINDOW_FIELDS);
    const rate = optNumber(at('rate'), raw['rate'], Number.MIN_VALUE, Number.MAX_VALUE);
    const perMs = optNumber(at('perMs'), raw['perMs'] ?? POLICY_DEFAULTS.perMs, Number.MIN_VALUE, Number.MAX_VALUE);
    const burst = optNumber(at('burst'), raw['burst'] ?? Math.max(1, rate), 1, Number.MAX_VALUE);
    if (perMs / rate > MAX_UNIT_MS) throw new InvalidOptionError(at('rate'), `a rate giving one unit within ${MAX_UNIT_MS} ms (perMs / rate, here ${perMs} / rate; about 68 years, the longest Retry-After a client can be told)`, rate);
    policy = { algorithm, name, rate, perMs, burst };
  }
  Object.freeze(policy);
  validated.add(policy);
  return policy;
}

function forbid(raw: Record<string, unknown>, at: (field: string) => string, algorithm: string, fields: readonly string[]): void {
  for (const f of fields) {
    if (raw[f] !== undefined) throw new InvalidOptionError(at(f), `absent for algorithm "${algorithm}"`, raw[f]);
  }
}

/**
 * Longest a policy may take to give back one unit (perMs / rate; a sliding window's windowMs):
 * 2^31 − 1 s, about 68 years, the largest Retry-After written (delta-seconds, RFC 9111 §1.2.2).
 * A slower policy would answer every refusal with a Retry-After that is not true.
 */
export const MAX_UNIT_MS = (2 ** 31 - 1) * 1000;

/** Most units one request can ever get at once (burst or window limit); a larger cost can never pass. */
export function capacityOf(policy: RatePolicy): number {
  return policy.algorithm === 'sliding-window' ? policy.limit : policy.burst;
}

/**
 * Window reported as `w` in facts. Token bucket and GCRA: the time to refill the whole
 * burst from empty (burst · perMs / rate), so that `resetMs <= windowMs` always holds.
 */
export function windowOf(policy: RatePolicy): number {
  return policy.algorithm === 'sliding-window' ? policy.windowMs : (policy.burst * policy.perMs) / policy.rate;
}
