// The admin listener reads; it does not take writes (hostile-9). POST, PUT, DELETE /status were
// answered 200 with the status, as a GET; a POST declaring a 100 MB body got its 200 and the
// connection stayed open with the body unread. Now: 405 + Allow: GET, HEAD + Connection: close,
// on the single process's listener and on the primary's (--workers).
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, gateway, get, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawConversation } from './raw-client.js';

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
  }, 120_000);
});
