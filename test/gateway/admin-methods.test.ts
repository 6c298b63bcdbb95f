// The admin listener reads; it does not take writes (hostile-9). POST, PUT, DELETE /status were
// answered 200 with the status, as a GET; a POST declaring a 100 MB body got its 200 and the
// connection stayed open with the body unread. Now: 405 + Allow: GET, HEAD + Connection: close,
// on the single process's listener and on the primary's (--workers). CONNECT is 405 too, and a
// target over the head's limit 414 (hostile-16: a silent close, and 431).
import { afterEach, describe, expect, it } from 'vitest';
import { WORKERS_TEST_MS, cleanup, gateway, get, oneRoute, sleep, startInProcess, upstream } from './helpers.js';
import { rawConversation, rawSocket } from './raw-client.js';

afterEach(cleanup);

async function expectReadOnly(adminUrl: string): Promise<void> {
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
    for (const path of ['/status', '/metrics?x=1', '/readyz', '/healthz']) {
      const r = await get(`${adminUrl}${path}`, { method, body: method === 'POST' ? '{}' : '' });
      expect([method, path, r.status, r.headers['allow'], r.headers['connection']]).toEqual([method, path, 405, 'GET, HEAD', 'close']);
      expect(r.body).toBe(`method ${method} not allowed: the admin listener serves GET and HEAD\n`);
    }
  }
  // A body declared and never sent: answered at once, and the connection closed, not left waiting for it.
  const big = await rawConversation(adminUrl, 'POST /status HTTP/1.1\r\nHost: a\r\nContent-Length: 100000000\r\n\r\n', 10_000);
  expect(big.open).toBe(false);
  expect(big.text).toMatch(/^HTTP\/1\.1 405 /);
  // CONNECT (node:http's 'connect' event) was a silent close; a 20 kB query string 431 with no body (hostile-16).
  const connect = await rawConversation(adminUrl, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
  expect(connect.open).toBe(false);
  expect(connect.text).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\n/);
  expect(connect.text).toMatch(/\r\nConnection: close\r\n\r\nmethod_not_allowed: the admin listener serves GET and HEAD, it is no tunnel: CONNECT is refused\n$/);
  // Behind a request served on the connection: that answer, then the 405.
  const behind = await rawConversation(adminUrl, 'GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nCONNECT a:1 HTTP/1.1\r\nHost: a\r\n\r\n');
  expect([...behind.text.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => m[1])).toEqual(['200', '405']);
  const longTarget = await rawConversation(adminUrl, `GET /status?${'x'.repeat(20_000)} HTTP/1.1\r\nHost: a\r\n\r\n`);
  expect(longTarget.text).toMatch(/^HTTP\/1\.1 414 URI Too Long\r\n/);
  expect(longTarget.text).toMatch(/\r\n\r\nuri_too_long: The request target is longer than the whole head of a request may be\. A request head to the admin listener may be 16384 bytes\.\n$/);
  const longHeader = await rawConversation(adminUrl, `GET /status HTTP/1.1\r\nHost: a\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`);
  expect(longHeader.text).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n[^]*\r\n\r\nheaders_too_large: /);
  const bad = await rawConversation(adminUrl, 'GET /status HTTP/1.1\r\nHo st: a\r\n\r\n');
  expect(bad.text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[^]*\r\n\r\nbad_header: A header is malformed \(Invalid header token\)\.\n$/);
  // An unknown path is 404 for every method, HEAD as GET (POST /nope was 405, POST /dashboard/nope
  // too: a method "not allowed" on a resource that does not exist); a known one 405 + Allow for the rest.
  for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PURGE']) {
    for (const path of ['/nope', '/status/x', '/dashboard/nope', '/']) {
      const r = await get(`${adminUrl}${path}`, { method, body: method === 'POST' ? '{}' : '' });
      const read = method === 'GET' || method === 'HEAD';
      // A body that may follow is not read on: the connection closes (as after a 405).
      expect([method, path, r.status, r.headers['allow'], read || r.headers['connection'] === 'close']).toEqual([method, path, 404, undefined, true]);
      expect(r.body, `${method} ${path}`).toBe(method === 'HEAD' ? '' : 'not found: try /healthz, /readyz, /status, /metrics, /dashboard\n');
    }
    for (const path of ['/dashboard', '/dashboard/snapshot']) {
      const r = await get(`${adminUrl}${path}`, { method });
      expect([method, path, r.status, r.headers['allow']]).toEqual([method, path, method === 'GET' || method === 'HEAD' ? 200 : 405, method === 'GET' || method === 'HEAD' ? undefined : 'GET, HEAD']);
    }
  }
  const head = await get(`${adminUrl}/healthz`, { method: 'HEAD' });
  expect([head.status, head.headers['content-length'], head.body]).toEqual([200, '3', '']);
  // GET and HEAD, with a query string, are served as before.
  expect((await get(`${adminUrl}/status?pretty=0`)).status).toBe(200);
  expect((await get(`${adminUrl}/healthz`, { method: 'HEAD' })).status).toBe(200);
}

describe('admin listener methods', () => {
  it('in one process: anything but GET and HEAD is 405', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess(oneRoute(up.url, '5s'));
    await expectReadOnly(gw.adminUrl);
  });

  it('the primary of --workers 2: the same', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await gateway(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--workers', '2', '--concurrency', '4']);
    await expectReadOnly(gw.adminUrl);
  }, WORKERS_TEST_MS);

  it('a GET declaring a body is answered and its connection closed, the body not read on (hostile-16)', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess(oneRoute(up.url, '5s'));
    for (const framing of ['Content-Length: 100000000000', 'Transfer-Encoding: chunked']) {
      // Kept alive, node:http read and dropped the body after the answer until requestTimeout (10 s): 400 MB in 4 s.
      const { socket, text, closed } = rawSocket(gw.adminUrl);
      socket.write(`GET /healthz HTTP/1.1\r\nHost: a\r\n${framing}\r\n\r\n`);
      const chunk = framing.startsWith('Transfer') ? Buffer.from(`10000\r\n${'x'.repeat(0x10000)}\r\n`) : Buffer.alloc(0x10000, 120);
      let open = true;
      void closed.then(() => (open = false));
      const started = Date.now();
      while (open && Date.now() - started < 8_000) {
        if (!socket.write(chunk)) await new Promise((r) => setTimeout(r, 5));
        else await sleep(0);
      }
      expect(open).toBe(false);
      expect(text()).toMatch(/^HTTP\/1\.1 200 OK\r\nConnection: close\r\n[^]*\r\n\r\nok\n$/);
    }
  }, 30_000);
});
