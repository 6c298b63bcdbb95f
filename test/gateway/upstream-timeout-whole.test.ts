// An upstream's `timeout` bounds the whole wait for the response's head, from the moment the
// request is given to the upstream's connection pool: a wait for a free connection, the connect,
// a resend, the wait for the head, together. Before, each part had a timer of its own: a connect
// bounded by `timeout` (cd2e37d), then undici's headers timer starting again when the request
// was written, and none for a wait in the pool — an upstream slow to accept and then slow to
// answer was waited for up to twice `timeout`, and one whose connections were all busy longer.
import { afterEach, describe, expect, it } from 'vitest';
import { startGateway } from '../../src/gateway/index.js';
import { cleanup, onCleanup, oneRoute, sleep, startInProcess, upstream } from './helpers.js';
import { rawExchange, rawGet } from './raw-client.js';
import { stoppedListener } from './stopped-listener.js';

afterEach(cleanup);

/**
 * An upstream whose accept queue is full (stopped-listener.ts) until `resume()`: the gateway's SYN
 * is dropped and sent again 1 s later, so its connect completes about 1 s in. It then answers
 * every request `answerMs` after reading it.
 */
function slowAccept(answerMs: number): Promise<{ url: string; resume: () => void }> {
  return stoppedListener(`require('http').createServer((q, s) => setTimeout(() => s.end('late'), ${answerMs}))`);
}

describe("an upstream's timeout bounds the whole wait for the response head", () => {
  it('an upstream slow to accept (~1 s), then slow to answer (1 s): 504 at the 1.5 s timeout, not its answer at ~2 s', async () => {
    const up = await slowAccept(1_000);
    const gw = await startGateway(oneRoute(up.url, '1500ms'));
    onCleanup(() => gw.close());
    const started = performance.now();
    const answer = rawExchange(gw.url, rawGet('/x'), 30_000);
    // The gateway's SYN is dropped; the listener accepts again before TCP sends it once more (at 1 s).
    setTimeout(up.resume, 300);
    const a = await answer;
    const took = performance.now() - started;
    // Before: 200 'late' (the head came 1 s after the ~1 s connect: within a headers timer started at the write).
    expect(a.status).toBe(504);
    expect(JSON.parse(a.body)).toMatchObject({ reason: 'upstream_timeout' });
    expect(took).toBeGreaterThanOrEqual(1_450);
    expect(gw.status().counters).toMatchObject({ upstreamTimeouts: 1 });
  }, 60_000);

  it('a wait for a free connection counts: the second of two requests on one connection is 504 at the timeout', async () => {
    const up = await upstream((req, res) => setTimeout(() => res.end(req.url), 700));
    const gw = await startInProcess(oneRoute(up.url, '1s', { upstreams: { app: { url: up.url, timeout: '1s', maxSockets: 1 } } }));
    const first = rawExchange(gw.url, rawGet('/first'), 30_000);
    await sleep(50);
    const second = await rawExchange(gw.url, rawGet('/second'), 30_000);
    expect(await first).toMatchObject({ status: 200, body: '/first' });
    // Before: 200 '/second' at ~1.4 s, sent at ~0.7 s when the connection came free.
    expect(second.status).toBe(504);
    expect(JSON.parse(second.body)).toMatchObject({ reason: 'upstream_timeout' });
  }, 60_000);
});
