// The admin listener's cap of requests in progress (admin-connections.ts): requests other than
// the probes hold at most ADMIN_MAX_CONNECTIONS − ADMIN_PROBE_RESERVE (20) at once; the next
// is answered 503 'admin listener busy' with Retry-After: 1 and its connection closed, while
// /healthz and /readyz are still served. Untested until session 17: removing the cap failed
// nothing. The listener is the admin's own server, its handler one that holds `/hold`.
import { request } from 'node:http';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_MAX_CONNECTIONS, ADMIN_PROBE_RESERVE, createAdminServer } from '../../src/gateway/admin-connections.js';
import { cleanup, get, onCleanup, within } from './helpers.js';

afterEach(cleanup);

async function adminServer(): Promise<{ url: string; held: ServerResponse[] }> {
  const held: ServerResponse[] = [];
  const server = createAdminServer((req, res) => {
    if (req.url === '/hold') held.push(res);
    else res.end('ok\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, held };
}

/** A request to `/hold`, left in progress until the server ends it (or cleanup). */
function hold(url: string): void {
  const req = request(`${url}/hold`, { agent: false }, (res) => res.resume());
  req.on('error', () => undefined);
  req.end();
  onCleanup(async () => void req.destroy());
}

describe('admin listener busy', () => {
  it('20 requests in progress: the 21st is 503 admin listener busy (Retry-After: 1, closed); the probes answer; one ended makes room', async () => {
    const { url, held } = await adminServer();
    const share = ADMIN_MAX_CONNECTIONS - ADMIN_PROBE_RESERVE;
    for (let i = 0; i < share; i++) hold(url);
    expect(await within(10_000, () => held.length === share, 10)).toBe(true);

    const busy = await get(`${url}/status`);
    expect(busy.status).toBe(503);
    expect(busy.body).toBe('admin listener busy: too many requests in progress; /healthz and /readyz are still answered\n');
    expect(busy.headers['retry-after']).toBe('1');
    expect(busy.headers['connection']).toBe('close');
    // Without the cap, the 21st /hold would be held as well.
    hold(url);
    expect((await get(`${url}/status`)).status).toBe(503);
    expect(held.length).toBe(share);

    expect((await get(`${url}/healthz`)).status).toBe(200);
    expect((await get(`${url}/readyz`)).status).toBe(200);

    // One ends: its place is free again.
    held[0]!.end('done\n');
    expect(await within(10_000, async () => (await get(`${url}/status`)).status === 200, 20)).toBe(true);
  });
});
