// A client that leaves while its request's upstream connection is still being opened gives its
// slot back at once, and that connect is cut: nothing goes on opening for a request nobody
// waits for. Before, the request stayed with undici until the connect ended — it opened, and
// undici's onConnect dropped the request, or it failed at undici's connect timeout (the
// upstream's `timeout`, at most 10 s) — and its slot was held all that while: a queued request
// behind it waited for a client already gone.
//
// The upstream's connects hang (stopped-listener.ts: SYNs dropped); one connection at most.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { gatewaySockets } from './gateway-sockets.js';
import { cleanup, oneRoute, startInProcess, within } from './helpers.js';
import { queued } from './one-slot.js';
import { stoppedListener } from './stopped-listener.js';

afterEach(cleanup);

type Gw = Awaited<ReturnType<typeof startInProcess>>;
const inFlight = (gw: Gw): number => gw.status().policies[0]!.gates.find((g) => g.kind === 'concurrency')!.inFlight;

/** A raw client that sends `GET target` and stays until it resets the connection. */
function client(url: string, target: string): { destroy: () => void } {
  const u = new URL(url);
  const s = connect(Number(u.port), u.hostname);
  s.on('error', () => undefined);
  s.write(`GET ${target} HTTP/1.1\r\nHost: gw\r\n\r\n`);
  // A reset: a FIN is a client still reading (queued-client-close.test.ts), answered in its turn.
  return { destroy: () => void s.resetAndDestroy() };
}

describe('a client that leaves while its upstream connection is being opened', () => {
  it('gives its slot back at once and its connect is cut; the request queued behind it takes the slot', async () => {
    const up = await stoppedListener();
    const sockets = gatewaySockets(Number(new URL(up.url).port));
    // A timeout far past the test's bounds: only the client's leaving can end A's trip early.
    const config = oneRoute(up.url, '30s', {
      upstreams: { app: { url: up.url, timeout: '30s', maxSockets: 1 } },
      routes: [{ path: '/', policy: { concurrency: { limit: 1, queue: 5, queueTimeout: '30s' } } }],
    });
    const gw = await startInProcess(config);
    const a = client(gw.url, '/a');
    expect(await within(10_000, () => inFlight(gw) === 1 && sockets.open() === 1)).toBe(true);
    const b = client(gw.url, '/b');
    expect(await within(10_000, () => queued(gw) === 1)).toBe(true);
    a.destroy();
    // B is admitted in A's place (before: B waited in the queue for A's connect, 10 s, undici's connect timeout here).
    expect(await within(5_000, () => queued(gw) === 0 && inFlight(gw) === 1)).toBe(true);
    // A's connect was cut; B's is the only one opening.
    expect(await within(5_000, () => sockets.open() === 1)).toBe(true);
    b.destroy();
    expect(await within(5_000, () => inFlight(gw) === 0 && sockets.open() === 0)).toBe(true);
    expect(sockets.peak()).toBe(1);
  }, 60_000);
});
