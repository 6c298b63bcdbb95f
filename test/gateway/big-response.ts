// A large response written as fast as its reader (the gateway) takes it: the upstream of the
// slow-reader tests (slow-readers-yield, upstream-inflight).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { onCleanup, upstream } from './helpers.js';

const CHUNK = Buffer.alloc(64 * 1024, 98);

/** `chunks` × 64 KB, with its Content-Length: each write after the one before it drained. */
export function writeBig(res: ServerResponse, chunks: number): void {
  let left = chunks;
  res.writeHead(200, { 'content-length': String(left * CHUNK.length) });
  const write = (): void => {
    while (left > 0) {
      left--;
      if (!res.write(CHUNK)) return void res.once('drain', write);
    }
    res.end();
  };
  write();
}

/** `n` clients of the gateway at `url` that ask for `path` (/big) and never read (destroyed after the test). */
export function nonReaders(url: string, n: number, path = '/big'): Socket[] {
  const u = new URL(url);
  const sockets: Socket[] = [];
  onCleanup(async () => sockets.forEach((s) => s.destroy()));
  for (let i = 0; i < n; i++) {
    const s = connect(Number(u.port), u.hostname);
    s.on('error', () => undefined);
    s.write(`GET ${path} HTTP/1.1\r\nHost: gw\r\n\r\n`);
    s.pause();
    sockets.push(s);
  }
  return sockets;
}

/** An upstream answering with `respond` that counts its requests in flight, from arrival to the response's 'close'; its connections kept a minute. */
export async function countingUpstream(respond: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; opened(): number; now(): number; peak(): number }> {
  let opened = 0;
  let now = 0;
  let peak = 0;
  const up = await upstream((req, res) => {
    now++;
    peak = Math.max(peak, now);
    res.once('close', () => now--);
    req.resume();
    respond(req, res);
  });
  up.server.keepAliveTimeout = 60_000;
  up.server.on('connection', () => opened++);
  return { url: up.url, opened: () => opened, now: () => now, peak: () => peak };
}

const BIG = Buffer.alloc(16 * 1024 * 1024, 97);

/** `/big`: 16 MB in one write; anything else 'small' (counted: countingUpstream). */
export const bigOrSmall = (): ReturnType<typeof countingUpstream> =>
  countingUpstream((req, res) => {
    if (req.url !== '/big') return void res.end('small');
    res.writeHead(200, { 'content-length': String(BIG.length) });
    res.end(BIG);
  });
