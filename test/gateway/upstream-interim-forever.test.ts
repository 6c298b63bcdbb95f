// An upstream that answers a request with interim responses and never a final one (a 102
// Processing every 100 ms, for ever). undici restarts its headers timer at each 1xx, so by
// itself the request would wait for ever and hold its concurrency slot: the upstream's
// `timeout` is the time to the final response's head, however many interim ones come first.
// In process, on loopback, against an upstream that writes raw bytes. Asked over HTTP/1.0, whose
// clients get no 1xx (an HTTP/1.1 client gets each 102 relayed: upstream-informational.test.ts),
// so what the client sees first is the final answer or nothing.
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, onCleanup, oneRoute, startInProcess } from './helpers.js';
import { rawExchange } from './raw-client.js';

afterEach(cleanup);

/** /stuck: a 102 every `everyMs`, never a final response; /late: 102s, then a 200 after `lateMs`; anything else: 200 at once. */
async function interimUpstream(everyMs: number, lateMs: number): Promise<string> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const path = /^\w+ (\S+)/.exec(buf)?.[1] ?? '';
        buf = buf.slice(end + 4);
        if (path === '/stuck' || path === '/late') {
          const started = Date.now();
          const t = setInterval(() => {
            if (s.destroyed) return clearInterval(t);
            if (path === '/late' && Date.now() - started >= lateMs) {
              clearInterval(t);
              s.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate');
              return;
            }
            s.write('HTTP/1.1 102 Processing\r\n\r\n');
          }, everyMs);
          timers.add(t);
        } else s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  onCleanup(
    () =>
      new Promise((r) => {
        for (const t of timers) clearInterval(t);
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const oneSlot = { routes: [{ path: '/', policy: { concurrency: { limit: 1, queue: 5, queueTimeout: '10s' as const } } }] };

describe('an upstream that sends interim responses and no final one', () => {
  it('is 504 upstream_timeout within its timeout (plus one interval), and its slot goes back', async () => {
    const up = await interimUpstream(100, Number.POSITIVE_INFINITY);
    const gw = await startInProcess(oneRoute(up, '400ms', oneSlot));
    const stuck = await rawExchange(gw.url, 'GET /stuck HTTP/1.0\r\nHost: gw\r\n\r\n', 8_000);
    expect(stuck.status).toBe(504);
    expect(stuck.body).toMatch(/"reason":"upstream_timeout"/);
    expect(gw.status().counters).toMatchObject({ upstreamTimeouts: 1 });
    // The one slot is free again: the next request is served.
    const ok = await rawExchange(gw.url, 'GET /ok HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n', 8_000);
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('ok');
  });

  it('a client that left meanwhile: its slot goes back at the timeout all the same', async () => {
    const up = await interimUpstream(100, Number.POSITIVE_INFINITY);
    const gw = await startInProcess(oneRoute(up, '400ms', oneSlot));
    // Sent, then gone before any answer: the upstream has it, so its slot is held until it answers — or times out.
    const gone = await rawExchange(gw.url, 'GET /stuck HTTP/1.0\r\nHost: gw\r\n\r\n', 150);
    expect(gone.timedOut).toBe(true);
    const ok = await rawExchange(gw.url, 'GET /ok HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n', 8_000);
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('ok');
  });

  it('a final response after interim ones, within the timeout, is relayed', async () => {
    const up = await interimUpstream(50, 150);
    const gw = await startInProcess(oneRoute(up, '5s', oneSlot));
    const late = await rawExchange(gw.url, 'GET /late HTTP/1.0\r\nHost: gw\r\n\r\n', 8_000);
    expect(late.status).toBe(200);
    expect(late.body).toBe('late');
  });
});
