/** What the HTTP policy answers for one request; adapters only write it out. */
import type { AdmissionContext, Gate, Rejection } from '../core/types.js';
import type { HttpPermit } from './http-permit.js';
import type { Problem, RefusalStatus } from './problem.js';
import type { HeaderPair } from './ratelimit-headers.js';

/**
 * Go ahead: set `headers` on the response. From `handle`, the permit is released when the
 * response closes; from `decide`, the caller ends it (`finish(status)` or `release(outcome)`).
 */
export interface Admitted {
  readonly type: 'admitted';
  readonly headers: readonly HeaderPair[];
  readonly permit: HttpPermit;
  /** From `decideBeforeWork`: gates not asked yet, to ask in order once the work can start (their permits join `permit`). */
  readonly later?: LaterAsk;
}

/** Gates a request decided before its work could start still has to pass, and the context to ask them with (`maxWaitMs` from then). */
export interface LaterAsk {
  readonly gates: readonly Gate[];
  readonly context: AdmissionContext;
}

/** Not subject to admission (an exempt route): go ahead, no headers. */
export interface Exempt {
  readonly type: 'exempt';
}

/** Refused: answer with `status`, `headers` (Content-Type included) and `body` (problem+json). */
export interface Refused {
  readonly type: 'rejected';
  readonly status: RefusalStatus;
  readonly headers: readonly HeaderPair[];
  readonly body: string;
  readonly problem: Problem;
  readonly rejection: Rejection;
}

/** The client went away while the request waited for admission: write nothing. */
export interface Abandoned {
  readonly type: 'abandoned';
}

export type HttpDecision = Admitted | Exempt | Refused | Abandoned;

export const EXEMPT: Exempt = Object.freeze({ type: 'exempt' });
export const ABANDONED: Abandoned = Object.freeze({ type: 'abandoned' });

/** The response side the policy needs: when it closed, and how it ended. */
export interface HttpResponseLike {
  readonly statusCode: number;
  /** True once the whole response was handed to the OS: a close before that is an abandoned request. */
  readonly writableFinished: boolean;
  readonly destroyed: boolean;
  on(event: 'close', listener: () => void): unknown;
}
