// hostile-27: an upstream whose connect never completes — a host gone behind a router that drops
// its packets, a firewall's DROP, an accept queue that is full — held each admitted request's
// slot for undici's own connect timeout (10 s), then answered 502 upstream_unreachable, whatever
// the upstream's `timeout` said (1 s here: still 10 s; 1 m: still cut at 10 s). The upstream's
// `timeout` now bounds the connect too (at most those 10 s), and a connect that runs out of it
// is the upstream not answering in time: 504 upstream_timeout, as a silent upstream.
//
// The upstream is a child process that listens with an accept queue of one, stopped (SIGSTOP),
// its queue filled: the kernel drops every later SYN, as for an unreachable host.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/gateway/index.js';
import { gatewaySockets } from './gateway-sockets.js';
import { cleanup, metricSample, onCleanup, oneRoute, within } from './helpers.js';
import { rawExchange, rawGet } from './raw-client.js';
import { stoppedListener } from './stopped-listener.js';

afterEach(cleanup);

/** An address whose connects hang: a stopped listener whose accept queue is full. */
async function unanswered(): Promise<string> {
  return (await stoppedListener()).url;
}

describe('an upstream whose connect never completes (hostile-27)', () => {
  it("is answered 504 upstream_timeout: the upstream's timeout bounds the connect too", async () => {
    const failures: unknown[] = [];
    const quiet = (): void => undefined;
    const logger = { debug: (fields: Record<string, unknown>, msg: string) => void (msg === 'upstream failure' && failures.push(fields)), info: quiet, warn: quiet, error: quiet };
    const gw = await startGateway(oneRoute(await unanswered(), '1s', { policies: { p: { concurrency: { limit: 1 } } }, routes: [{ path: '/', policy: 'p' }] }), { logger });
    onCleanup(() => gw.close());
    const a = await rawExchange(gw.url, rawGet('/x'), 30_000);
    expect(a.status).toBe(504);
    expect(JSON.parse(a.body)).toMatchObject({ reason: 'upstream_timeout', detail: 'The upstream did not answer in time.' });
    // The connect waited the upstream's 1 s, not undici's 10 s: cut by the request's deadline
    // (upstream-connect-deadline.test.ts; until session 29 it ran out of its own connect timeout, 1 s too).
    expect(failures).toEqual([expect.objectContaining({ reason: 'upstream_timeout', error: expect.stringMatching(/^UPSTREAM_TIMEOUT: the connection did not open within the upstream's timeout, 1000 ms /) })]);
    // The slot came back with the answer.
    expect(gw.status().policies[0]!.gates.find((g) => g.kind === 'concurrency')!.inFlight).toBe(0);
    expect(metricSample((await gw.metrics())!, 'sluice_upstream_failures_total', { reason: 'upstream_timeout' })).toBe(1);
  }, 60_000);

  // Found by test/gateway/upstream-connections.test.ts beside a CPU hog (1 run in 25): a request
  // handed to a connection being opened, whose client reset before undici sent it, gave its slot
  // back at once; the request that slot let in found no free connection and opened one more, beside
  // the one still opening — which undici then closed as it connected, to drop the request. The
  // upstream saw 7 connections at once with a limit of 6. Here the connect never completes, so the
  // two would stay side by side for the whole connect timeout.
  it("a request whose client goes while its connection is being opened keeps its slot until that connect ends: no second connect beside it", async () => {
    const up = await unanswered();
    const port = Number(new URL(up).port);
    // The gateway's connections to the upstream, open or being opened (never connected, here), the most at once.
    const sockets = gatewaySockets(port);
    const quiet = (): void => undefined;
    const logger = { debug: quiet, info: quiet, warn: quiet, error: quiet };
    const gw = await startGateway(oneRoute(up, '1s', { policies: { p: { concurrency: { limit: 1, queue: 10, queueTimeout: '30s' } } }, routes: [{ path: '/', policy: 'p' }] }), { logger });
    onCleanup(() => gw.close());
    const gate = (): { inFlight: number; queued: number } => gw.status().policies[0]!.gates.find((g) => g.kind === 'concurrency')!;
    // A: admitted, its connection being opened (for 1 s, then 504).
    const u = new URL(gw.url);
    const a = connect(Number(u.port), u.hostname);
    a.on('error', () => undefined);
    onCleanup(async () => void a.destroy());
    a.write(rawGet('/a'));
    expect(await within(10_000, () => sockets.open() === 1, 2)).toBe(true);
    // B waits for A's slot.
    const b = rawExchange(gw.url, rawGet('/b'), 30_000);
    expect(await within(10_000, () => gate().queued === 1, 2)).toBe(true);
    a.resetAndDestroy();
    // B goes on once A's connect has ended (its 1 s), on a connect of its own, which runs out too.
    expect((await b).status).toBe(504);
    // Before: 2 (B's connect begun beside A's, a moment after A's reset).
    expect(sockets.peak()).toBe(1);
    expect(gate().inFlight).toBe(0);
  }, 60_000);
});
