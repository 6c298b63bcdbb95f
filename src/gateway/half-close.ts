/**
 * A client that half-closes after its request (shutdown(SHUT_WR): `nc -N`, scripts, some
 * health checkers) is still reading: its requests are answered, then the connection ends.
 * node:http's default aborted them at the FIN and ended the socket — after the gateway had
 * admitted and forwarded them: upstream work and a slot spent on an answer nobody could get
 * (hostile-3 H2). A FIN on an idle connection still closes it at once.
 *
 * The connection ends after the answer to the last request read before the FIN, so that
 * answer's head says `Connection: close` when it is not yet written (hostile-9: it said
 * `Connection: keep-alive` and `Keep-Alive: timeout=5`, then the gateway closed). Earlier
 * pipelined answers keep the connection open for the ones behind them.
 */
import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * `lastOf(socket)`: the response to the last request read on the connection (pipeline-limit.ts
 * keeps it for every request, 100-continue ones too) — no 'request' listener and map of its own per request.
 */
export function answerHalfOpen(server: Server, lastOf: (socket: Socket) => ServerResponse | undefined): void {
  // node:http's own switch, read at each FIN: set on every http.Server, absent from its typings.
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  server.on('connection', (socket: Socket) => {
    socket.once('end', () => {
      // A reset that came while the connection waited in the listener's accept queue reads as an
      // end here: the kernel hands over the request, then end-of-stream (the reset's error is only
      // seen at a write). Taken for a FIN, its request was queued and served — upstream work for a
      // client that had gone, the overload's timed-out clients first (hostile-11). A reset peer has
      // no address any more (ENOTCONN); a half-closed one has: the reset is treated as one.
      if (peerGone(socket)) {
        socket.destroy();
        return;
      }
      const res = lastOf(socket);
      // node:http writes `Connection: close` (and closes after it) for a response that should not keep alive.
      if (res !== undefined && !res.headersSent) res.shouldKeepAlive = false;
    });
  });
}

/**
 * Whether `socket`'s peer had reset the connection by the time its request is forwarded
 * (request-handler.ts). A connection's first request asks through node:net, which keeps the
 * address for the X-Forwarded-For written next (forward-headers.ts): no call of its own; a
 * later request on it asks the kernel again (one getpeername).
 */
export function resetBeforeForward(socket: Socket): boolean {
  if ((socket as Socket & { _peername?: object })._peername === undefined) return socket.remoteAddress === undefined;
  return peerGone(socket);
}

/** Whether `socket`'s peer has reset the connection: its address is gone (getpeername: ENOTCONN), where a half-closed peer's is not. */
function peerGone(socket: Socket): boolean {
  const handle = (socket as Socket & { _handle?: { getpeername?: (out: object) => number } | null })._handle;
  return typeof handle?.getpeername === 'function' && handle.getpeername({}) !== 0;
}
