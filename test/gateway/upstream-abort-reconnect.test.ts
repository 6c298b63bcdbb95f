// A request the gateway aborts on its upstream connection — its deadline passed (504), or its
// client left and the rest of its response is over the read-out bound — closes that connection,
// and opens no other. undici's abort of a request it has written destroys the socket with an
// 'aborted' InformationalError, and its socket-close handler, which skips that error, puts the
// aborted request back as pending: the Client connected again for it, then found it aborted and
// dropped it. Each such abort left a spare connection at the upstream, opened for nobody (and,
// while it opened, one more than the requests in flight). Now the pool retires a Client whose
// request it aborted (upstream-trip.ts): that connection closes, and the next request takes a new
// Client. Counted at the upstream (its accepts) and at the gateway (undici's connect events).
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { writeBig } from './big-response.js';
import { gatewaySockets } from './gateway-sockets.js';
import { cleanup, get, oneRoute, sleep, startInProcess, upstream, within } from './helpers.js';
import { rawExchange, rawGet } from './raw-client.js';

afterEach(cleanup);

/** `/silent`: answered after 3 s; `/big`: 16 MB as fast as the gateway reads it; anything else 'ok'. Counts its accepts. */
async function countedUpstream(): Promise<{ url: string; port: number; opened: () => number }> {
  let opened = 0;
  const up = await upstream((req, res) => {
    req.resume();
    if (req.url === '/big') writeBig(res, 256);
    else if (req.url === '/silent') setTimeout(() => res.end('late'), 3_000);
    else res.end('ok');
  });
  up.server.keepAliveTimeout = 60_000;
  up.server.on('connection', () => opened++);
  return { url: up.url, port: up.port, opened: () => opened };
}

/** Long enough for a reconnect on loopback to have begun (it came in the loop turn after the abort). */
const SETTLE_MS = 300;

describe('a request aborted on its upstream connection opens no spare connection', () => {
  it('one timed out (504): its connection closes, and none is opened until the next request', async () => {
    const up = await countedUpstream();
    const sockets = gatewaySockets(up.port);
    const gw = await startInProcess(oneRoute(up.url, '300ms', { upstreams: { app: { url: up.url, timeout: '300ms', maxSockets: 1 } } }));
    const a = await rawExchange(gw.url, rawGet('/silent'), 30_000);
    expect(a.status).toBe(504);
    await sleep(SETTLE_MS);
    // Before: 2 — a connection opened for the aborted request, and kept idle.
    expect(up.opened()).toBe(1);
    expect(sockets.peak()).toBe(1);
    expect(gw.status().upstreams[0]!.sockets).toBe(0);
    expect(await get(gw.url, { path: '/next' })).toMatchObject({ status: 200, body: 'ok' });
    expect(up.opened()).toBe(2);
  }, 60_000);

  it('one whose client left mid-body, its rest over the bound: its connection closes, and none is opened', async () => {
    const up = await countedUpstream();
    const sockets = gatewaySockets(up.port);
    const gw = await startInProcess(oneRoute(up.url, '5s', { upstreams: { app: { url: up.url, timeout: '5s', maxSockets: 1 } } }));
    const u = new URL(gw.url);
    for (let i = 0; i < 3; i++) {
      const s = connect(Number(u.port), u.hostname);
      s.on('error', () => undefined);
      s.write('GET /big HTTP/1.1\r\nHost: gw\r\n\r\n');
      await new Promise<void>((r) => s.once('data', () => r()));
      s.destroy();
      // The connection it was on (the i-th the gateway opened, either way) is closed: the abort.
      expect(await within(10_000, () => [...sockets.byPort.values()][i]?.destroyed === true)).toBe(true);
      await sleep(SETTLE_MS);
      // Before: i + 2 — each abort's connection replaced at once by one opened for nobody (reused by the next /big).
      expect(up.opened()).toBe(i + 1);
      expect(gw.status().upstreams[0]!.sockets).toBe(0);
    }
    expect(sockets.peak()).toBe(1);
  }, 60_000);
});
