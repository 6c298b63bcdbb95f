// An upstream's `timeout` bounds the whole trip to the final head even when the connect is what
// is still under way at the deadline. Before, a request whose connection was still being opened
// at its deadline waited for that connect to end — aborted as it opened, or at undici's connect
// timeout (`timeout` from the connect's start) — so a request that first waited for a free
// connection, then had to open one, was answered up to twice `timeout` after its dispatch. Now
// the deadline cuts the connect itself (the pool's connector hands it the socket being opened):
// 504 at the deadline, the socket closed, and no connection left opening in the background.
//
// The upstream's connects hang (stopped-listener.ts: SYNs dropped); one connection at most.
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/gateway/index.js';
import { gatewaySockets } from './gateway-sockets.js';
import { cleanup, onCleanup, oneRoute, sleep } from './helpers.js';
import { rawExchange, rawGet } from './raw-client.js';
import { stoppedListener } from './stopped-listener.js';

afterEach(cleanup);

const TIMEOUT_MS = 2_000;

describe("a connect still under way at the upstream's timeout", () => {
  it('is cut at the deadline: a request that waited for the connection, then opened it, is 504 at its own timeout, not twice it', async () => {
    const up = await stoppedListener();
    const sockets = gatewaySockets(Number(new URL(up.url).port));
    const failures: string[] = [];
    const quiet = (): void => undefined;
    const logger = { debug: (fields: Record<string, unknown>, msg: string) => void (msg === 'upstream failure' && failures.push(String(fields['error']))), info: quiet, warn: quiet, error: quiet };
    const config = oneRoute(up.url, `${TIMEOUT_MS}ms`, { upstreams: { app: { url: up.url, timeout: `${TIMEOUT_MS}ms`, maxSockets: 1 } } });
    const gw = await startGateway(config, { logger });
    onCleanup(() => gw.close());
    // A: its connect hangs. B, half a timeout later, waits for A's connection, then opens it anew.
    const a = rawExchange(gw.url, rawGet('/a'), 30_000);
    await sleep(TIMEOUT_MS / 2);
    const sentB = performance.now();
    const b = await rawExchange(gw.url, rawGet('/b'), 30_000);
    const tookB = performance.now() - sentB;
    expect((await a).status).toBe(504);
    expect(b.status).toBe(504);
    expect(JSON.parse(b.body)).toMatchObject({ reason: 'upstream_timeout' });
    // Each cut by its trip's deadline, not by undici's connect timeout (which starts at the connect).
    // Before: ['UND_ERR_CONNECT_TIMEOUT: Connect Timeout Error (..., timeout: 2000ms)', the same] — B's at >= 1.5 x TIMEOUT_MS after its dispatch.
    expect(failures).toEqual([
      expect.stringMatching(/^UPSTREAM_TIMEOUT: the connection did not open within the upstream's timeout, 2000 ms from the request's dispatch/),
      expect.stringMatching(/^UPSTREAM_TIMEOUT: the connection did not open within the upstream's timeout, 2000 ms from the request's dispatch/),
    ]);
    // B waited for A's connection, then for its own connect: within its one timeout (before: its own connect's whole timeout more).
    expect(tookB).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(tookB).toBeLessThan(1.45 * TIMEOUT_MS);
    // Nothing left opening: no connect runs on for a request already answered.
    expect(sockets.open()).toBe(0);
    expect(sockets.peak()).toBe(1);
  }, 60_000);
});
