/**
 * A `fetch` that does not make an overload worse. Per origin it applies, in order: pacing
 * from the origin's RateLimit / Retry-After headers, client-side adaptive throttling, a
 * circuit breaker and a concurrency limit; around them, retries with backoff and jitter
 * under a per-origin retry budget and one deadline for the whole call. The throttle judges
 * whole calls (one request, accepted or not in the end); the other gates, each attempt.
 *
 * - Only idempotent requests are retried (GET, HEAD, OPTIONS, TRACE, PUT, DELETE, or any
 *   request with an `Idempotency-Key` header), unless `retryNonIdempotent` or the call's
 *   `idempotent` says otherwise; and only when the body can be sent again (not a stream).
 * - A response whose status is in `retryOn` is retried after max(backoff, its Retry-After),
 *   if that wait ends before the deadline and the budget allows; otherwise the caller gets
 *   that response, as fetch would have returned it. Network errors and attempt timeouts are
 *   retried the same way; when the policy gives up the caller gets the error.
 * - A refusal by the client's own gates never reaches the network and is not retried: the
 *   call rejects with a RejectedError (reason `rate_limited` from the pacer, `overloaded`
 *   from the throttle, `circuit_open`, `concurrency` / `queue_full` / `queue_timeout`), or,
 *   when it refuses a retry, resolves with the previous attempt's response.
 * - The deadline (client `deadlineMs`, shortened by the call's) aborts the attempt in flight
 *   and rejects with a 'TimeoutError' DOMException; the caller's `init.signal` aborts at
 *   once with AbortedError.
 *
 * Gates are released when the response headers arrive: the concurrency limit bounds requests
 * waiting for an answer, not bodies being read.
 */
import { ClosedError, InvalidArgumentError, optBoolean, optionKeys, optKnownKeys, RejectedError } from '../core/index.js';
import type { Gate, Outcome, Permit } from '../core/index.js';
import { parseRetryAfter } from '../retry/index.js';
import { httpClientConfig } from './options.js';
import type { HttpClientConfig, HttpClientOptions } from './options.js';
import { OriginGates } from './origin.js';
import type { OriginStats } from './origin.js';
import { readRateLimit } from './rate-limit-headers.js';
import { isIdempotent, isReplayable } from './replay.js';
import { discard, isTimeout, RetryableStatus, Surrender } from './retry-rules.js';

/** Per-call settings, the third argument of {@link HttpClient.fetch}. */
export interface CallOptions {
  /** Whether this call may be retried whatever its method says. @default by method, Idempotency-Key and `retryNonIdempotent` */
  readonly idempotent?: boolean;
  /** This call's time limit, ms; the earlier of it and the client's `deadlineMs` wins. > 0. */
  readonly deadlineMs?: number;
  /** Priority in the origin's concurrency queue (higher first with a priority discipline). @default 0 */
  readonly priority?: number;
}

/** A misspelt setting (`deadline`) would otherwise run the call without it, in silence. */
const CALL_KEYS = optionKeys<CallOptions>({ idempotent: true, deadlineMs: true, priority: true });

/** One call's memory across its attempts. */
interface CallState {
  /** The previous attempt's retryable response, kept until the next attempt goes out. */
  last: RetryableStatus | undefined;
}

export class HttpClient {
  readonly #c: HttpClientConfig;
  /** In least-recently-used order: a used origin moves to the end. */
  readonly #origins = new Map<string, OriginGates>();
  #closed = false;

  constructor(options: HttpClientOptions = {}) {
    this.#c = httpClientConfig(options);
  }

  /** `fetch(input, init)` with the client's protection; bound, so it can be passed around as a fetch. */
  readonly fetch = (input: string | URL | Request, init?: RequestInit, call?: CallOptions): Promise<Response> => this.#fetch(input, init ?? {}, call ?? {});

  /** Every gate of every origin tracked now (for metrics: `gates: () => client.gates()`). */
  gates(): Gate[] {
    return [...this.#origins.values()].flatMap((o) => o.gates());
  }

  /** Stats of one origin (undefined if not tracked), or of all. */
  stats(): OriginStats[];
  stats(origin: string): OriginStats | undefined;
  stats(origin?: string): OriginStats[] | OriginStats | undefined {
    if (origin !== undefined) return this.#origins.get(new URL(origin).origin)?.stats();
    return [...this.#origins.values()].map((o) => o.stats());
  }

  /** Stop: later calls reject with ClosedError, waiting ones settle; responses in flight are still delivered. */
  close(): void {
    this.#closed = true;
    for (const o of this.#origins.values()) o.close();
    this.#origins.clear();
  }

  async #fetch(input: string | URL | Request, init: RequestInit, call: CallOptions): Promise<Response> {
    if (this.#closed) throw new ClosedError(this.#c.name);
    optKnownKeys('HttpClient.fetch call', call, CALL_KEYS);
    optBoolean('idempotent', call.idempotent, false);
    const request = input instanceof Request ? input : undefined;
    const origin = new URL(request?.url ?? (typeof input === 'string' ? input : (input as URL).href)).origin;
    const method = init.method ?? request?.method ?? 'GET';
    const headers = new Headers(init.headers ?? request?.headers);
    const body: unknown = init.body !== undefined ? init.body : request?.body;
    const idempotent = call.idempotent ?? (this.#c.retryNonIdempotent || isIdempotent(method, headers));
    const o = this.#origin(origin);
    const policy = idempotent && isReplayable(body) && o.retry !== undefined ? o.retry : o.once;
    const clock = this.#c.clock;
    let deadlineMs = this.#c.deadlineMs;
    if (call.deadlineMs !== undefined) {
      if (typeof call.deadlineMs !== 'number' || !(call.deadlineMs > 0)) throw new InvalidArgumentError('deadlineMs', 'a number > 0', call.deadlineMs);
      if (call.deadlineMs < deadlineMs) deadlineMs = call.deadlineMs;
    }
    const deadline = deadlineMs === Infinity ? undefined : clock.now() + deadlineMs;
    const caller = init.signal ?? undefined;
    const state: CallState = { last: undefined };
    o.active++;
    let ticket: Permit | undefined;
    let accepted: Outcome = 'ignored';
    try {
      ticket = o.admitCall();
      const response = await policy.execute(
        (signal) => this.#attempt(o, state, input, init, signal, deadline, call.priority),
        caller === undefined ? (deadline === undefined ? undefined : { deadline }) : deadline === undefined ? { signal: caller } : { signal: caller, deadline },
      );
      accepted = acceptance(response);
      return response;
    } catch (err) {
      // Given up on a retryable status: the caller gets the response, as from fetch.
      if (err instanceof RetryableStatus || err instanceof Surrender) {
        accepted = acceptance(err.response);
        return err.response;
      }
      // A network error or a timeout: the backend did not accept it. A local refusal or the caller's abort: never counted.
      if (err instanceof TypeError || isTimeout(err)) accepted = 'failure';
      throw err;
    } finally {
      ticket?.release(accepted);
      o.active--;
      this.#evict();
    }
  }

  async #attempt(o: OriginGates, state: CallState, input: string | URL | Request, init: RequestInit, signal: AbortSignal, deadline: number | undefined, priority: number | undefined): Promise<Response> {
    const ctx = { signal, ...(deadline === undefined ? {} : { deadline }), ...(priority === undefined ? {} : { priority }) };
    let held;
    try {
      held = await o.admit(ctx);
    } catch (err) {
      // A retry refused locally: give up, and hand over the previous attempt's response.
      if (state.last !== undefined && err instanceof RejectedError) throw new Surrender(state.last.response);
      throw err;
    }
    // This attempt goes out: the previous one's response is thrown away now.
    if (state.last !== undefined) discard(state.last.response);
    state.last = undefined;
    let response: Response;
    try {
      response = await this.#c.fetch(input, { ...init, signal });
    } catch (err) {
      o.settleError(held, signal);
      throw err;
    }
    const status = response.status;
    // Retry-After is read on the refusals the draft and RFC 9110 pair it with.
    const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(response.headers.get('retry-after'), Date.now()) : undefined;
    o.settle(held, status, readRateLimit(response.headers), retryAfterMs);
    if (this.#c.retryOn.has(status)) throw (state.last = new RetryableStatus(response, retryAfterMs));
    return response;
  }

  #origin(origin: string): OriginGates {
    let o = this.#origins.get(origin);
    if (o === undefined) o = new OriginGates(origin, this.#c);
    else this.#origins.delete(origin);
    this.#origins.set(origin, o);
    return o;
  }

  /** Forget the least recently used idle origins beyond maxOrigins. */
  #evict(): void {
    if (this.#origins.size <= this.#c.maxOrigins) return;
    for (const [key, o] of this.#origins) {
      if (this.#origins.size <= this.#c.maxOrigins) return;
      if (o.active > 0) continue;
      o.close();
      this.#origins.delete(key);
    }
  }
}

/** The SRE book's "accepted": any answer but the backend refusing the request for load. */
function acceptance(response: Response): Outcome {
  return response.status === 429 || response.status === 503 ? 'failure' : 'success';
}

/** `createClient(options)`: an {@link HttpClient}; use its `fetch`. */
export function createClient(options?: HttpClientOptions): HttpClient {
  return new HttpClient(options);
}
