// A raw uploader for tests of requests decided while their bodies arrive (refusal-before-body*.test.ts):
// it writes a head, then body chunks at its own pace, reading all the while, and records how much
// it had sent when the status line came — bytes, not time: the host may be busy.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { sleep, upstream } from './helpers.js';

/** Bytes per body chunk the uploader writes, and the Content-Length it declares by default. */
export const CHUNK = 100_000;
export const DECLARED = 50_000_000;

/** An upstream that records `METHOD target bytes` of every request, answering once its body is in (or `hold` says when). */
export async function recordingUpstream(hold?: (res: ServerResponse) => void): Promise<{ seen: string[]; url: string }> {
  const seen: string[] = [];
  const up = await upstream((req: IncomingMessage, res: ServerResponse) => {
    let n = 0;
    req.on('data', (d: Buffer) => (n += d.length));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${n}`);
      if (hold === undefined) res.end('ok');
      else hold(res);
    });
  });
  return { seen, url: up.url };
}

export interface Upload {
  /** Body bytes the client had written when the status line arrived (undefined: it never did). */
  sentAtStatus: number | undefined;
  /** Body bytes written after the status line, until the gateway closed (undefined: it did not). */
  sentAfterStatusToClose: number | undefined;
  text: string;
}

/**
 * Write `head`, then body chunks of 100 kB every `everyMs` — chunked framing when `chunked` —
 * until the gateway closes or `maxChunks` were written, reading all the while; then `after` (a
 * pipelined request with the rest of a short body, say) if the connection is still open.
 */
export async function upload(url: string, head: string, o: { chunked?: boolean; maxChunks?: number; everyMs?: number; afterStatus?: (socket: Socket) => void } = {}): Promise<Upload> {
  // Half-open allowed: the gateway's FIN after its answer does not end the client's side — it goes on sending, as curl does.
  const u = new URL(url);
  const socket = connect({ port: Number(u.port), host: u.hostname, allowHalfOpen: true });
  let received = '';
  const text = (): string => received;
  socket.setEncoding('latin1').on('data', (d: string) => (received += d));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((r) => socket.on('close', () => r()));
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  let sent = 0;
  let sentAtStatus: number | undefined;
  socket.on('data', () => {
    if (sentAtStatus === undefined && /^HTTP\/1\.1 \d{3}/.test(text())) {
      sentAtStatus = sent;
      o.afterStatus?.(socket);
    }
  });
  socket.write(head);
  const chunk = Buffer.alloc(CHUNK, 97);
  const framed = o.chunked === true ? Buffer.concat([Buffer.from(`${CHUNK.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]) : chunk;
  for (let i = 0; i < (o.maxChunks ?? 40) && !isClosed; i++) {
    if (o.afterStatus !== undefined && sentAtStatus !== undefined) break;
    socket.write(framed);
    sent += CHUNK;
    await sleep(o.everyMs ?? 50);
  }
  const sentBeforeWait = sent;
  if (!isClosed) await Promise.race([closed, sleep(3_000)]);
  socket.destroy();
  return { sentAtStatus, sentAfterStatusToClose: isClosed && sentAtStatus !== undefined ? sentBeforeWait - sentAtStatus : undefined, text: text() };
}

export const statuses = (text: string): number[] => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));

/** The head and body of the first response in `text`; the body cut to its Content-Length. */
export function firstResponse(text: string): { head: string; body: string; length: number } {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? -1);
  return { head, body: end < 0 ? '' : text.slice(end + 4, end + 4 + length), length };
}

export const postHead = (target: string, framing = `Content-Length: ${DECLARED}`): string => `POST ${target} HTTP/1.1\r\nHost: gw\r\n${framing}\r\n\r\n`;

