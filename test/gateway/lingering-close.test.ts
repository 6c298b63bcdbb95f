// A connection the gateway answers and closes itself (client-errors.ts: a CONNECT's 405 — node:http
// has handed the socket over and reads it no more — or a request it cannot parse) lingers for
// LINGER_MS at most after the answer. It is to close as soon as its client closes or resets,
// not when that timer fires: before, what the client sent after its CONNECT stayed unread, so
// its FIN was never seen (the socket held its descriptor the whole second), and its reset
// was an 'error' with no listener — an uncaught exception, which ends a worker (worker.ts).
// The linger timer is faked here and never fires: a close seen is the client's.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BadRequests } from '../../src/gateway/bad-requests.js';
import { onClientError, onConnect } from '../../src/gateway/client-errors.js';
import { LINGER_BYTES } from '../../src/gateway/responses.js';

const realSetTimeout = globalThis.setTimeout;
const realSleep = (ms: number): Promise<'timeout'> => new Promise((r) => realSetTimeout(() => r('timeout'), ms));
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const uncaught: Error[] = [];
const onUncaught = (err: Error): void => void uncaught.push(err);

let server: Server | undefined;
const sockets = new Set<Socket>();
beforeEach(() => {
  uncaught.length = 0;
  process.prependListener('uncaughtException', onUncaught);
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(async () => {
  vi.useRealTimers();
  process.removeListener('uncaughtException', onUncaught);
  for (const s of sockets) s.destroy();
  sockets.clear();
  await new Promise<void>((r) => (server === undefined ? r() : server.close(() => r())));
  server = undefined;
});

/** A server wired as the gateway's is for its own answers; `closed` resolves when its end of the connection closes. */
async function answering(): Promise<{ port: number; closed: Promise<Socket> }> {
  const bad = new BadRequests(silent, 60_000);
  const http = createServer((_req, res) => res.end('ok'));
  http.on('clientError', onClientError(bad));
  http.on('connect', onConnect(bad));
  const closed = new Promise<Socket>((resolve) =>
    http.on('connection', (s: Socket) => {
      sockets.add(s);
      s.once('close', () => resolve(s));
    }),
  );
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  server = http;
  return { port: (http.address() as AddressInfo).port, closed };
}

/** A client that keeps its side open after the gateway's FIN, reads the answer, then `then`s. */
function client(port: number, bytes: string, then: (c: Socket) => void): Promise<string> {
  const c = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  c.on('error', () => undefined);
  c.write(bytes);
  return new Promise((resolve) => {
    c.setEncoding('latin1').once('data', (d: string) => {
      resolve(d);
      then(c);
    });
  });
}

const CONNECT = 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\ntunnelled bytes';
const BAD = 'GET / HTTP/1.1\r\nHost: gw\r\nBad Header: x\r\n\r\nmore';

describe('a connection answered and closed by the gateway', () => {
  for (const [what, bytes, status] of [['a CONNECT', CONNECT, 405], ['a request it cannot parse', BAD, 400]] as const) {
    it(`after ${what}, closes when its client closes its side, not at the linger timer`, async () => {
      const { port, closed } = await answering();
      const answer = await client(port, bytes, (c) => c.end('and then some'));
      expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      expect(await Promise.race([closed.then(() => 'closed'), realSleep(5_000)])).toBe('closed');
      expect(uncaught).toEqual([]);
    });

    it(`after ${what}, closes when its client resets, and the reset is no uncaught error`, async () => {
      const { port, closed } = await answering();
      await client(port, bytes, (c) => c.resetAndDestroy());
      expect(await Promise.race([closed.then(() => 'closed'), realSleep(5_000)])).toBe('closed');
      expect(uncaught).toEqual([]);
    });
  }

  it('reads at most about LINGER_BYTES of what follows a CONNECT, and its client still gets the answer', async () => {
    const { port } = await answering();
    const c = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    c.on('error', () => undefined);
    c.pause();
    c.write(Buffer.concat([Buffer.from(CONNECT, 'latin1'), Buffer.alloc(8 * 1024 * 1024, 97)]));
    await realSleep(300);
    const read = [...sockets][0]!.bytesRead;
    let text = '';
    c.setEncoding('latin1').on('data', (d: string) => (text += d));
    c.resume();
    await realSleep(100);
    expect(text).toMatch(/^HTTP\/1\.1 405 /);
    expect(read).toBeGreaterThan(LINGER_BYTES);
    expect(read).toBeLessThan(4 * 1024 * 1024);
    c.destroy();
  });
});
