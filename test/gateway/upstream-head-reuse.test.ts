// A HEAD's upstream connection is not reused (undici's default, its issue 258), whatever
// that costs: an upstream that sends a body after a HEAD's head — a handler that flushes its
// head, then writes the body it was not asked for — sends bytes nothing can place. Once the
// next request was on that connection, they were read as its response, and every response
// after it on the connection answered the request before (hostile-10: one client's HEAD, and
// other clients got each other's responses; cf5817a had made HEAD reuse connections, as
// nginx does). GETs still reuse theirs. Counted at the upstream, on loopback.
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, oneRoute, onCleanup, startInProcess, upstream } from './helpers.js';

afterEach(cleanup);

/**
 * An upstream that answers each request with its path, and after a HEAD's head, sends
 * on that connection, ahead of the next request's answer, a whole response of its own.
 */
async function bodyAfterHead(): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    connections++;
    sockets.add(s);
    let buf = '';
    let afterHead = false;
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const [method, path = ''] = buf.slice(0, end).split(' ');
        buf = buf.slice(end + 4);
        // The body a HEAD was not to get, late: once the next request is on its way.
        if (afterHead) s.write('HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\nthe HEAD\'s body');
        afterHead = method === 'HEAD';
        s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\n\r\n${method === 'HEAD' ? '' : path}`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  onCleanup(
    () =>
      new Promise((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections };
}

describe('HEAD through the gateway', () => {
  it("an upstream's body after a HEAD's head never answers the requests after it", async () => {
    const up = await bodyAfterHead();
    const gw = await startInProcess(oneRoute(up.url, '5s', { upstreams: { app: { url: up.url, timeout: '5s', maxSockets: 1 } } }));
    const head = await get(gw.url, { method: 'HEAD', path: '/head' });
    expect(head).toMatchObject({ status: 200, body: '' });
    expect(head.headers['content-length']).toBe('5');
    for (const path of ['/one', '/two', '/three']) expect(await get(gw.url, { path })).toMatchObject({ status: 200, body: path });
    // The HEAD's connection closed; the GETs shared the next one.
    expect(up.connections()).toBe(2);
  });

  it('GETs reuse one kept-alive upstream connection; each HEAD answered with its head', async () => {
    let connections = 0;
    const up = await upstream((req, res) => {
      res.setHeader('Content-Length', '5');
      res.end(req.method === 'HEAD' ? undefined : 'hello');
    });
    up.server.on('connection', () => connections++);
    const gw = await startInProcess(oneRoute(up.url, '5s'));
    for (const method of ['GET', 'GET', 'HEAD', 'GET', 'HEAD']) {
      const r = await get(gw.url, { method });
      expect(r.status).toBe(200);
      expect(r.headers['content-length']).toBe('5');
      expect(r.body).toBe(method === 'HEAD' ? '' : 'hello');
    }
    // GET, GET on the first; the HEAD on it, which then closes; GET on a second; the HEAD on it.
    expect(connections).toBe(2);
  });
});
