/**
 * An upstream's interim (1xx) responses relayed to the client ahead of its final one: 102
 * Processing, 103 Early Hints (whose Link fields let a browser preload while the upstream
 * works). Until upin21 the gateway dropped them. Each goes as it came — status line with its
 * reason phrase, its fields but the hop-by-hop ones — and only to an HTTP/1.1 client: RFC 9110
 * section 15.2, a server must not send a 1xx to an HTTP/1.0 client. A 100 never comes here
 * (undici cannot read past one: upstream-failures.ts), nor a 101 (no upgrade is forwarded).
 * Written raw, they bypass the response buffer's backpressure: one that would go behind
 * `pendingLimit` bytes its client has not taken yet is dropped (a 1xx is advisory, a client may
 * ignore it) — an upstream flooding 103s at a client that does not read had the gateway hold
 * all of them (review21: ~24 MB held for one request).
 */
import type { ServerResponse } from 'node:http';
import { responseHead } from './forward-headers.js';
import { reasonPhraseFault } from './upstream-failures.js';

/** node:http's writer of raw bytes in the response's turn on its connection (what its writeEarlyHints and writeProcessing use). */
type RawWriter = { _writeRaw(data: string, encoding: BufferEncoding): boolean };

/** Relay the interim response `status` (102-199) to the client of `res`, if it may have it, nothing went out yet, and less than `pendingLimit` bytes wait for it. */
export function relayInterim(res: ServerResponse, status: number, statusText: string, raw: readonly (string | Buffer)[], pendingLimit: number): void {
  const req = res.req;
  if (req.httpVersionMajor !== 1 || req.httpVersionMinor < 1 || res.headersSent || status < 102 || status > 199) return;
  // The client's connection with its buffer's worth pending (res.writableLength counts the socket's).
  if (res.writableLength >= pendingLimit) return;
  // A reason phrase node:http would not write is dropped with its response (the final one's is answered 502: proxy.ts).
  if (reasonPhraseFault(statusText) !== undefined) return;
  const head = responseHead(raw, []);
  let text = `HTTP/1.1 ${status} ${statusText}\r\n`;
  for (let i = 0; i < head.length; i += 2) text += `${head[i]}: ${head[i + 1]}\r\n`;
  (res as unknown as RawWriter)._writeRaw(`${text}\r\n`, 'latin1');
}
