// HEAD requests reuse the upstream's kept-alive connections, as GETs do. undici closes a
// connection after every HEAD by default (undici issue 258: for servers that wrongly send a
// body after a HEAD's head), so each HEAD through the gateway opened a new upstream
// connection: a HEAD flood (health checkers, link checkers) was a connection flood on the
// upstream. nginx reuses them too (ngx_http_proxy_process_header: a HEAD's response keeps
// the connection unless it says close). Counted at the upstream, on loopback.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawConversation } from './raw-client.js';
import { rawUpstream } from './raw-upstream.js';

afterEach(cleanup);

describe('HEAD through the gateway', () => {
  it('reuses one kept-alive upstream connection, mixed with GETs', async () => {
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
    expect(connections).toBe(1);
  });

  it('an upstream that sends a body after a HEAD response loses that connection, and the next request is not answered with those bytes', async () => {
    // The body comes in the same write as the head: it is read before the next request is sent.
    const up = await rawUpstream({
      '/head': 'HTTP/1.1 200 OK\r\nContent-Length: 35\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n',
      '/next': 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext',
    });
    const gw = await startInProcess(oneRoute(up.url, '5s'));
    const head = await rawConversation(gw.url, 'HEAD /head HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n');
    expect(head.text).toMatch(/^HTTP\/1\.1 200 /);
    const next = await get(gw.url, { path: '/next' });
    expect(next).toMatchObject({ status: 200, body: 'next' });
    expect(up.seen).toEqual(['/head', '/next']);
  });
});
