// A request asking to upgrade its connection (Upgrade + Connection: upgrade) with more bytes
// behind it in the same read (hostile-11). node:http's parser stops at the end of such a
// request, and node:http, with no 'upgrade' listener, serves it as a request and drops the
// rest of that read: a request pipelined behind it was never answered (the connection idled
// until keepAliveTimeout), and a request cut by the read's end lost its head, its body then
// parsed as a request of its own. Now the upgrade ask is answered with Connection: close, and
// nothing behind it is served. In process, on loopback.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, sleep, startInProcess, upstream } from './helpers.js';
import { rawConversation } from './raw-client.js';

afterEach(cleanup);

const statuses = (text: string): number[] => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
const WS = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';

async function gateway(): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const up = await upstream((req, res) => {
    seen.push(`${req.method} ${req.url}${req.headers.upgrade === undefined ? '' : ' (upgrade!)'}`);
    res.end(`answer to ${req.url}`);
  });
  // A keep-alive timeout far past the conversation's bound: a connection left open stays open.
  const gw = await startInProcess(oneRoute(up.url, '5s', { server: { keepAliveTimeout: '60s' } }));
  return { url: gw.url, seen };
}

describe('a request asking to upgrade, with a request pipelined behind it in the same write', () => {
  const cases: [string, string][] = [
    ['a WebSocket handshake', `GET /a HTTP/1.1\r\nHost: gw\r\n${WS}\r\n`],
    ['an h2c offer (curl --http2)', 'GET /a HTTP/1.1\r\nHost: gw\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n'],
    ['a POST with a body', 'POST /a HTTP/1.1\r\nHost: gw\r\nUpgrade: foo\r\nConnection: keep-alive, upgrade\r\nContent-Length: 3\r\n\r\nabc'],
  ];
  for (const [name, ask] of cases) {
    it(`${name}: is answered without the upgrade, Connection: close, and the connection closes`, async () => {
      const gw = await gateway();
      const { text, open } = await rawConversation(gw.url, `${ask}GET /b HTTP/1.1\r\nHost: gw\r\n\r\n`, 10_000);
      expect(open).toBe(false);
      expect(statuses(text)).toEqual([200]);
      expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n(?:[^\r]+\r\n)*Connection: close\r\n/i);
      expect(text).toContain('answer to /a');
      expect(gw.seen).toEqual([`${ask.slice(0, ask.indexOf(' '))} /a`]);
    });
  }

  it('the rest of a request cut by the read is not taken for a request of its own', async () => {
    const gw = await gateway();
    const u = new URL(gw.url);
    const socket = connect(Number(u.port), u.hostname);
    socket.on('error', () => undefined);
    let text = '';
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    const first = new Promise<void>((resolve) => {
      socket.setEncoding('latin1').on('data', (d: string) => {
        text += d;
        if (text.includes('answer to /a')) resolve();
      });
    });
    // The upgrade ask and the head of a POST whose 38-byte body comes in a later write.
    socket.write(`GET /a HTTP/1.1\r\nHost: gw\r\n${WS}\r\nPOST /b HTTP/1.1\r\nHost: gw\r\nContent-Length: 38\r\n\r\n`);
    await first;
    // The POST's body, which reads as a request; the connection must not parse it as one.
    socket.write('GET /smuggled HTTP/1.1\r\nHost: gw\r\n\r\n');
    // A bound, not a figure: a connection still open then is a finding of its own (asserted below).
    const open = await Promise.race([closed.then(() => false), sleep(10_000).then(() => true)]);
    socket.destroy();
    expect(gw.seen).toEqual(['GET /a']);
    expect(statuses(text)).toEqual([200]);
    expect(open).toBe(false);
  });

  it('an Upgrade header without Connection: upgrade asks nothing: both requests are answered on the open connection', async () => {
    const gw = await gateway();
    const { text } = await rawConversation(gw.url, 'GET /a HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\n\r\nGET /b HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n', 10_000);
    expect(statuses(text)).toEqual([200, 200]);
    expect(gw.seen).toEqual(['GET /a', 'GET /b']);
  });
});
