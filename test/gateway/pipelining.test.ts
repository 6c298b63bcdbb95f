// A client that pipelines thousands of requests and never reads (hostile finding F16): the
// gateway serves one request per connection at a time, stops reading the connection while
// requests wait, and forwards nothing for a client that left. Behaviour only: counts.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, sleep, startInProcess, upstream } from './helpers.js';

afterEach(cleanup);

describe('pipelined requests', () => {
  it('an exempt route: one at a time per connection, nothing forwarded after the client leaves', async () => {
    let inFlight = 0;
    let peak = 0;
    let received = 0;
    const up = await upstream((_req, res) => {
      received++;
      peak = Math.max(peak, ++inFlight);
      setTimeout(() => {
        inFlight--;
        res.end('ok');
      }, 20);
    });
    const gw = await startInProcess(oneRoute(up.url, '5s', { routes: [{ path: '/healthz', exempt: true }] }));
    const u = new URL(gw.url);
    const socket = connect(Number(u.port), u.hostname);
    socket.pause(); // never reads
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write('GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(2_000));
    await sleep(1_000);
    // One at a time, 20 ms each: far fewer than 2,000 in a second, however the machine runs.
    expect(peak).toBe(1);
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(2_000);
    socket.destroy();
    await sleep(300);
    const atClose = received;
    await sleep(1_000);
    // The one in flight when the client left may finish; nothing after it is forwarded.
    expect(received - atClose).toBeLessThanOrEqual(1);
    // The gateway still serves everyone else.
    const r = await fetch(`${gw.url}/healthz`);
    expect(r.status).toBe(200);
  });

  it('pipelined requests are answered in order, each once', async () => {
    const up = await upstream((req, res) => res.end(`hello ${req.url}`));
    const gw = await startInProcess(oneRoute(up.url, '5s'));
    const u = new URL(gw.url);
    const socket = connect(Number(u.port), u.hostname);
    let text = '';
    socket.setEncoding('utf8').on('data', (d: string) => (text += d));
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(Array.from({ length: 20 }, (_, i) => `GET /r${i} HTTP/1.1\r\nHost: a\r\n\r\n`).join(''));
    for (let i = 0; i < 100 && (text.match(/hello/g) ?? []).length < 20; i++) await sleep(50);
    socket.destroy();
    expect(text.match(/hello \/r\d+/g)).toEqual(Array.from({ length: 20 }, (_, i) => `hello /r${i}`));
  });

  it("a pipelined request's body is read when its turn comes, though reading stopped while it waited", async () => {
    const up = await upstream((req, res) => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => setTimeout(() => res.end(`${req.url} ${n}`), 200));
    });
    const gw = await startInProcess(oneRoute(up.url, '5s', { server: { bodyTimeout: '3s' } }));
    const u = new URL(gw.url);
    const socket = connect(Number(u.port), u.hostname);
    let text = '';
    socket.setEncoding('utf8').on('data', (d: string) => (text += d));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write('POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloPOST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 200000\r\n\r\n');
    await sleep(100); // /b waits behind /a: its connection is not read meanwhile
    socket.write(Buffer.alloc(200_000, 'b'));
    for (let i = 0; i < 100 && !text.includes('/b '); i++) await sleep(50);
    socket.destroy();
    expect(text).toContain('/a 5');
    expect(text).toContain('/b 200000');
  });
});
