/**
 * When a request may be sent twice. An automatic retry must not change the outcome (RFC 9110
 * §9.2.2: idempotent methods; or an `Idempotency-Key` header, draft-ietf-httpapi-idempotency-key-header)
 * and must be able to send the same body again (a stream is consumed by the first attempt).
 */
import { InvalidArgumentError } from '../core/index.js';
import { deepFreeze } from '../core/deep-freeze.js';

/** RFC 9110 §9.2.2: the methods whose repeated effect equals one request's. */
export const IDEMPOTENT_METHODS: readonly string[] = deepFreeze(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Whether the method is idempotent or the request carries an `Idempotency-Key`. */
export function isIdempotent(method: string, headers: Headers): boolean {
  if (typeof method !== 'string') throw new InvalidArgumentError('method', 'an HTTP method (a string)', method);
  if (typeof (headers as Partial<Headers> | null | undefined)?.has !== 'function') throw new InvalidArgumentError('headers', 'request headers (a fetch Headers)', headers);
  return IDEMPOTENT_METHODS.includes(method.toUpperCase()) || headers.has('idempotency-key');
}

/**
 * Whether `body` can be sent again unchanged: none, a string, bytes (Buffer, typed array,
 * ArrayBuffer, DataView), URLSearchParams, a Blob or FormData. Not a ReadableStream, a Node
 * stream or any other (async) iterable: the first attempt consumes it.
 */
export function isReplayable(body: unknown): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof URLSearchParams ||
    body instanceof Blob ||
    body instanceof FormData
  );
}
