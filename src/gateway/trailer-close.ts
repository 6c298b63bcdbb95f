/**
 * A chunked request whose trailer section says `Connection: close` ends its connection after
 * its answer, and the answer says so. llhttp reads trailer fields as header fields: a close
 * token in a Connection (or Proxy-Connection) field among them sets its close flag, and every
 * byte after that message is refused unread (HPE_CLOSED_CONNECTION: client-errors.ts). node:http
 * had judged the connection at the head, so the answer said keep-alive and the next request on
 * it was never answered; pipelined behind, the connection stayed open until the keep-alive
 * timeout (hostile-17). The match is wider than llhttp's (any case, OWS around a list element:
 * header-lists.ts): closing a connection that could have stayed open costs a reconnect, the
 * other way a lost request. Not wider than a list element, though: `close` and a no-break space
 * is no close to llhttp, which reads on: closing there left a request it had read unanswered.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listHas } from './header-lists.js';

/** Whether `req`'s trailer fields (read: after its body's end) name `close` in a Connection or Proxy-Connection field. */
export function trailersSayClose(req: IncomingMessage): boolean {
  const raw = req.rawTrailers;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name !== 'connection' && name !== 'proxy-connection') continue;
    if (listHas(raw[i + 1]!, 'close')) return true;
  }
  return false;
}

/** At the end of `req`'s body: its answer closes the connection if its trailers said close and its head is not out yet. */
export function closeIfTrailersSay(req: IncomingMessage, res: ServerResponse): void {
  if (!res.headersSent && trailersSayClose(req)) res.shouldKeepAlive = false;
}
