/**
 * Refusals as HTTP: 429 when the tenant is over its rate or quota (its own doing; retrying
 * sooner will not help), 503 when the server is over capacity (anyone's request would
 * have been refused). The body is RFC 9457 problem details, with the problem types the
 * RateLimit draft registers (section 5) and `violated-policies` naming the policies.
 */
import type { RejectionReason } from '../core/types.js';
import { deepFreeze } from '../core/deep-freeze.js';

export type RefusalStatus = 429 | 503;

/** 429 for rate_limited and quota; 503 for every capacity reason (and store_unavailable, closed). */
export function statusOf(reason: RejectionReason): RefusalStatus {
  return reason === 'rate_limited' || reason === 'quota' ? 429 : 503;
}

export const PROBLEM_TYPES = deepFreeze({
  quotaExceeded: 'https://iana.org/assignments/http-problem-types#quota-exceeded',
  temporaryReducedCapacity: 'https://iana.org/assignments/http-problem-types#temporary-reduced-capacity',
} as const);

const DETAIL: Readonly<Record<RejectionReason, string>> = {
  rate_limited: 'The request rate of this client is over its limit.',
  quota: 'This client has used up its quota.',
  concurrency: 'The server is handling as many requests as it can.',
  queue_full: 'The server is handling as many requests as it can, and its wait queue is full.',
  queue_timeout: 'The request could not be served within its wait time.',
  shed: 'The request was shed to keep waiting times short.',
  overloaded: 'The server is overloaded; requests of this criticality are shed.',
  circuit_open: 'A dependency of this service is failing; requests are refused for a while.',
  keys_full: 'The server is tracking as many clients as it can; new clients are refused until some go idle.',
  store_unavailable: 'The store this server keeps its limits in cannot be reached; requests are refused until it answers.',
  closed: 'The server is shutting down.',
};

/** A problem-details object (RFC 9457) for a refusal. */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: RefusalStatus;
  readonly detail: string;
  /** Extension: the rejection reason (rate_limited, quota, concurrency, ...). */
  readonly reason: RejectionReason;
  /** Extension (RateLimit draft section 5): the policies this request went over. */
  readonly 'violated-policies'?: readonly string[];
  /** Extension: the Retry-After value, seconds. */
  readonly 'retry-after'?: number;
}

/** `detail`: said instead of the reason's own sentence (a request that no wait can admit). */
export function problem(reason: RejectionReason, violated: readonly string[], retryAfterS: number | undefined, detail?: string): Problem {
  const status = statusOf(reason);
  const said = detail ?? DETAIL[reason];
  const base = {
    type: status === 429 ? PROBLEM_TYPES.quotaExceeded : PROBLEM_TYPES.temporaryReducedCapacity,
    title: status === 429 ? 'Too Many Requests' : 'Service Unavailable',
    status,
    detail: retryAfterS === undefined ? said : `${said} Retry after ${retryAfterS} s.`,
    reason,
  };
  return {
    ...base,
    ...(violated.length > 0 ? { 'violated-policies': violated } : {}),
    ...(retryAfterS !== undefined ? { 'retry-after': retryAfterS } : {}),
  };
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
