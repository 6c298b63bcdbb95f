// HEAD requests have kept-alive upstream connections of their own. An upstream that sends a
// body after a HEAD's head — a handler that flushes its head, then writes the body it was not
// asked for — sends bytes nothing can place: on a connection shared with other requests, once
// the next request was on it, they were read as that request's response, and every later
// response there answered the request before (hostile-10: one client's HEAD, and other
// clients got each other's responses). Closing a HEAD's connection after it (undici's default)
// cost a connection per HEAD (a HEAD flood: a connection flood, TIME_WAIT by the thousand).
// Counted at the upstream, on loopback.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, oneRoute, startInProcess, upstream } from './helpers.js';
import { lateBodyUpstream } from './raw-upstream.js';

afterEach(cleanup);

describe('HEAD through the gateway', () => {
  it("an upstream's body after a HEAD's head never answers the requests after it", async () => {
    // The body a HEAD was not to get, late: once the next request is on its way (a whole response of its own).
    const up = await lateBodyUpstream({ '/head': { head: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', late: "HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\nthe HEAD's body" } });
    const gw = await startInProcess(oneRoute(up.url, '5s', { upstreams: { app: { url: up.url, timeout: '5s', maxSockets: 1 } } }));
    const head = await get(gw.url, { method: 'HEAD', path: '/head' });
    expect(head).toMatchObject({ status: 200, body: '' });
    expect(head.headers['content-length']).toBe('5');
    for (const path of ['/one', '/two', '/three']) expect(await get(gw.url, { path })).toMatchObject({ status: 200, body: path });
    // The HEAD's connection, and the one the GETs shared.
    expect(up.connections()).toBe(2);
  });

  it('HEADs reuse one kept-alive upstream connection, GETs another', async () => {
    let connections = 0;
    const up = await upstream((req, res) => {
      res.setHeader('Content-Length', '5');
      res.end(req.method === 'HEAD' ? undefined : 'hello');
    });
    up.server.on('connection', () => connections++);
    const gw = await startInProcess(oneRoute(up.url, '5s'));
    for (const method of ['HEAD', 'HEAD', 'GET', 'HEAD', 'GET', 'HEAD']) {
      const r = await get(gw.url, { method });
      expect(r.status).toBe(200);
      expect(r.headers['content-length']).toBe('5');
      expect(r.body).toBe(method === 'HEAD' ? '' : 'hello');
    }
    expect(connections).toBe(2);
  });
});
