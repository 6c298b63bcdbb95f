/**
 * The header block of a refusal the admission decided (429/503), rendered for writeHead and
 * shared between requests refused alike (request-handler.ts writes it).
 */
import type { Refused } from '../http/decision.js';

/**
 * A refusal's header block as writeHead takes it (flat name/value list, Retry-After and
 * Content-Length included) and its Retry-After seconds, kept for the shared header lists of
 * rendered capacity refusals: under overload most answers are one of a handful of refusals,
 * written without a setHeader call, or a look for their Retry-After, each.
 */
export interface RefusalHead {
  readonly head: string[];
  /** The Retry-After the head says, s. */
  readonly retryS: number;
}

const refusalHeads = new WeakMap<readonly unknown[], RefusalHead>();

export function refusalHead(d: Refused, retryAfterS: number): RefusalHead {
  const cached = refusalHeads.get(d.headers);
  if (cached !== undefined) return cached;
  const head: string[] = [];
  let retryS: number | undefined;
  for (const [name, value] of d.headers) {
    head.push(name, value);
    if (retryS === undefined && name.toLowerCase() === 'retry-after') retryS = Number(value);
  }
  if (retryS === undefined) head.push('Retry-After', String(retryAfterS));
  head.push('Content-Length', String(Buffer.byteLength(d.body)));
  const rendered = { head, retryS: retryS ?? retryAfterS };
  // Only frozen lists are shared between requests; a fresh list is this request's alone.
  if (Object.isFrozen(d.headers) && retryS !== undefined) refusalHeads.set(d.headers, rendered);
  return rendered;
}
