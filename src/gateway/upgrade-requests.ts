/**
 * A request that asks to upgrade its connection (`Upgrade` with `Connection: upgrade`: a
 * WebSocket handshake, curl's `--http2` h2c offer) is served as a plain request — the gateway
 * proxies no upgrades, and `Upgrade` is hop-by-hop — and then its connection closes.
 *
 * Why close: node:http's parser (llhttp) stops at the end of such a request, since what
 * follows it would be another protocol; with no 'upgrade' listener node:http serves it as a
 * request and parses on from the connection's next read, dropping the rest of the read that
 * held the end of the upgrade request (node 20: `_http_server.js` ignores the parsed-bytes
 * count unless it hands the socket over). A request pipelined behind it in the same packet
 * was never answered and the connection idled until keepAliveTimeout (hostile-11); a request
 * cut by the read's end lost its start, and its remainder (a body, say) was parsed as a
 * request of its own: the client and the gateway no longer agreed where requests begin. Closed
 * after its answer (which says `Connection: close`), nothing behind it is read as a request:
 * the client sends again what went unanswered, as it must for pipelined requests a close left
 * unanswered (RFC 9112 section 9.3.2).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** `Connection` naming `upgrade` among its tokens, however written (a wider match only costs a close). */
const NAMES_UPGRADE = /(?:^|[\s,])upgrade(?:$|[\s,;])/i;

/** Whether llhttp may have stopped at the end of `req` as at an upgrade: `Upgrade` (any value, empty too) and `Connection: upgrade`. */
export function asksUpgrade(req: IncomingMessage): boolean {
  const connection = req.headers.connection;
  return req.headers.upgrade !== undefined && connection !== undefined && NAMES_UPGRADE.test(connection);
}

/** Call in the request's event, before anything is written: its answer closes the connection when it asked to upgrade. */
export function closeAfterUpgradeAsk(req: IncomingMessage, res: ServerResponse): void {
  if (asksUpgrade(req)) res.shouldKeepAlive = false;
}
