// Absolute-form targets and the host the upstream is told (hostile-4 item 4). The route is
// chosen on the path alone; an absolute-form target naming this gateway is served with its
// authority in place of Host (RFC 9112 section 3.2.2), so X-Forwarded-Host and Forwarded
// host= never carry a Host that disagrees with it; userinfo in the target is refused; a
// request without Host (HTTP/1.0) is told the address it reached, not the upstream's.
import type { IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawExchange } from './raw-client.js';

afterEach(cleanup);

async function start(): Promise<{ url: string; own: string; upHost: string; seen: { url: string; headers: IncomingHttpHeaders }[] }> {
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  const up = await upstream((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    res.end('ok');
  });
  const gw = await startInProcess(oneRoute(up.url, '2s', { routes: [{ path: '/admin', exempt: true, name: 'admin' }, { path: '/' }] }));
  return { url: gw.url, own: new URL(gw.url).host, upHost: `127.0.0.1:${up.port}`, seen };
}

describe('absolute-form targets', () => {
  it("this gateway's authority with a Host that disagrees: served, the authority replaces Host in what the upstream is told", async () => {
    const { url, own, upHost, seen } = await start();
    const r = await rawExchange(url, `GET http://${own}/x HTTP/1.1\r\nHost: evil.example\r\nX-Forwarded-Host: evil.example\r\nForwarded: host=evil.example\r\nConnection: close\r\n\r\n`);
    expect(r.status).toBe(200);
    expect(seen.map((s) => s.url)).toEqual(['/x']);
    const h = seen[0]!.headers;
    expect(h.host).toBe(upHost);
    expect(h['x-forwarded-host']).toBe(own);
    expect(h.forwarded).toBe(`for=127.0.0.1;host="${own}";proto=http`);
  });

  it('routes on the path alone: another host in absolute form is refused 400 foreign_target, whatever its path', async () => {
    const { url, own, seen } = await start();
    for (const target of ['http://evil.example/admin', 'http://evil.example/x']) {
      const r = await rawExchange(url, `GET ${target} HTTP/1.1\r\nHost: ${own}\r\nConnection: close\r\n\r\n`);
      expect(r.status, target).toBe(400);
      expect(JSON.parse(r.body), target).toMatchObject({ reason: 'foreign_target' });
    }
    expect(seen).toEqual([]);
  });

  it("this gateway's authority in another scheme (https://own/) is 421 foreign_scheme, saying so — not foreign_target 'for other hosts' (hostile-9)", async () => {
    const { url, own, seen } = await start();
    for (const scheme of ['https', 'HTTPS', 'ws', 'ftp']) {
      const target = `${scheme}://${own}/x`;
      const r = await rawExchange(url, `GET ${target} HTTP/1.1\r\nHost: ${own}\r\nConnection: close\r\n\r\n`);
      expect(r.status, target).toBe(421);
      expect(JSON.parse(r.body), target).toEqual({
        type: 'about:blank',
        title: 'Misdirected Request',
        status: 421,
        reason: 'foreign_scheme',
        detail: `The target names this gateway's address with the scheme ${scheme.toLowerCase()}:, which this listener does not serve (it serves plain http): send the path alone, or http://${own}/...`,
      });
    }
    // Another host in https is foreign as before.
    const other = await rawExchange(url, `GET https://evil.example/x HTTP/1.1\r\nHost: ${own}\r\nConnection: close\r\n\r\n`);
    expect([other.status, JSON.parse(other.body).reason]).toEqual([400, 'foreign_target']);
    expect(seen).toEqual([]);
  });

  it('OPTIONS with this authority and an empty path is a question about the server, as OPTIONS * is (RFC 9112 section 3.2.4): 200 here, not forwarded as OPTIONS /', async () => {
    const { url, own, seen } = await start();
    for (const target of [`http://${own}`, `HTTP://${own}`]) {
      const r = await rawExchange(url, `OPTIONS ${target} HTTP/1.1\r\nHost: ${own}\r\nConnection: close\r\n\r\n`);
      expect(r.status, target).toBe(200);
      expect(r.head, target).toMatch(/\r\nallow: GET, HEAD, POST/i);
    }
    // With a path, or a query, it is a question about that resource: forwarded.
    expect((await rawExchange(url, `OPTIONS http://${own}/x HTTP/1.1\r\nHost: ${own}\r\nConnection: close\r\n\r\n`)).status).toBe(200);
    expect((await rawExchange(url, `OPTIONS http://${own}?q HTTP/1.1\r\nHost: ${own}\r\nConnection: close\r\n\r\n`)).status).toBe(200);
    expect(seen.map((s) => s.url)).toEqual(['/x', '/?q']);
  });

  it('userinfo in the target (http://user@gateway/x) is refused 400 bad_target, never forwarded', async () => {
    const { url, own, seen } = await start();
    const r = await rawExchange(url, `GET http://admin:pw@${own}/x HTTP/1.1\r\nHost: ${own}\r\nConnection: close\r\n\r\n`);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body)).toMatchObject({ reason: 'bad_target', detail: expect.stringContaining('userinfo') });
    expect(seen).toEqual([]);
  });

  it('HTTP/1.0 without Host: the upstream is told the address the client reached, not its own', async () => {
    const { url, own, upHost, seen } = await start();
    expect((await rawExchange(url, 'GET /x HTTP/1.0\r\n\r\n')).status).toBe(200);
    expect(seen[0]!.headers['x-forwarded-host']).toBe(own);
    expect(seen[0]!.headers['x-forwarded-host']).not.toBe(upHost);
  });

  it('a listener on every address: a target naming the address this connection reached is its own (served, that authority forwarded), another is still foreign', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const up = await upstream((req, res) => {
      seen.push(req.headers);
      res.end('ok');
    });
    const gw = await startInProcess(oneRoute(up.url, '2s', { listen: { host: '0.0.0.0', port: 0 } }));
    const port = new URL(gw.url).port;
    // 127.0.0.2 is this machine too (127/8 is loopback), and not the address the listener reports.
    const reached = `http://127.0.0.2:${port}`;
    const r = await rawExchange(reached, `GET ${reached}/x HTTP/1.1\r\nHost: 127.0.0.2:${port}\r\nConnection: close\r\n\r\n`);
    expect(r.status).toBe(200);
    expect(seen[0]!['x-forwarded-host']).toBe(`127.0.0.2:${port}`);
    const options = await rawExchange(reached, `OPTIONS ${reached} HTTP/1.1\r\nHost: 127.0.0.2:${port}\r\nConnection: close\r\n\r\n`);
    expect(options.status).toBe(200);
    const other = await rawExchange(reached, `GET http://127.0.0.3:${port}/x HTTP/1.1\r\nHost: 127.0.0.2:${port}\r\nConnection: close\r\n\r\n`);
    expect(other.status).toBe(400);
    expect(JSON.parse(other.body)).toMatchObject({ reason: 'foreign_target' });
    expect(seen).toHaveLength(1);
  });
});
