/** Writing a decision on a node:http response (the node and Express adapters share it). */
import type { ServerResponse } from 'node:http';
import type { Refused } from './decision.js';
import type { HeaderPair } from './ratelimit-headers.js';

export function setHeaders(res: Pick<ServerResponse, 'setHeader'>, headers: readonly HeaderPair[]): void {
  for (const [name, value] of headers) res.setHeader(name, value);
}

/** Answer a refusal: status, headers, problem+json body. Nothing is written when headers already went out. */
export function writeRefusal(res: ServerResponse, refusal: Refused): void {
  if (res.headersSent) return;
  res.statusCode = refusal.status;
  setHeaders(res, refusal.headers);
  res.setHeader('Content-Length', Buffer.byteLength(refusal.body));
  res.end(refusal.body);
}

/** The path of a request target without its query. */
export function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}
