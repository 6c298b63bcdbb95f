/**
 * Handing one admitted request to its upstream (the entry of proxy.ts's forwarding): the pool
 * it goes on (a HEAD's own), the request undici sends (method, the upstream's base path and the
 * request's target, the head with the forwarding headers, the body read whole before admission),
 * and the handler that relays the response and ends the permit (proxy.ts Forwarding). A request
 * undici refuses to send is answered as an upstream failure; one whose connection was answered
 * and closed meanwhile is not sent at all.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { HttpPermit } from '../http/http-permit.js';
import type { HeaderPair } from '../http/ratelimit-headers.js';
import type { RequestBody } from './body-reader.js';
import type { ForwardContext } from './forward-context.js';
import { upstreamRequestHead } from './forward-headers.js';
import { Forwarding } from './proxy.js';
import type { LiveUpstream } from './route-table.js';

const NO_HEADERS: readonly HeaderPair[] = [];

export function forward(
  req: IncomingMessage,
  res: ServerResponse,
  upstream: LiveUpstream,
  body: RequestBody,
  permit: HttpPermit | undefined,
  ctx: ForwardContext,
  own: readonly HeaderPair[] = NO_HEADERS,
): void {
  const u = upstream.config;
  if (req.socket.destroyed || req.socket.writableEnded) {
    // The connection was answered and closed meanwhile (a malformed request behind this one, while it waited): nothing to forward.
    permit?.release('ignored');
    body.hold?.release();
    return;
  }
  // A HEAD goes on a connection of its own pool (route-table.ts): kept alive, and no other request's.
  const head = req.method === 'HEAD';
  const pool = head ? upstream.headPool : upstream.pool;
  const handler = new Forwarding(pool, res, permit, ctx, own, body);
  try {
    pool.dispatch(
      {
        method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
        path: `${u.basePath}${req.url ?? '/'}`,
        headers: upstreamRequestHead(req, u.host, ctx.trusted, ctx.stripped, ctx.proxyHeader),
        body: body.bytes,
        // Kept alive after a HEAD too (undici closes it by default, its issue 258): a HEAD's pool is its own.
        ...(head ? { reset: false } : {}),
      },
      handler,
    );
  } catch (err) {
    // A request undici will not send (a header it refuses): the upstream was never asked.
    handler.fail('error', err instanceof Error ? err.message : String(err));
  }
}
