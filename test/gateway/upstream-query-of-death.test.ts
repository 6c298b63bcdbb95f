// A "query of death": a request that makes the upstream close its connection (a crash, a worker
// killed) every time it is sent. 1c39676 sends an idempotent request once more when its kept-alive
// connection closes under it before any answer (the race with an upstream's idle timeout), so such
// a request, arriving on any reused connection, reached the upstream twice — two crashes for one
// request. It is sent again only on a connection that served a request before it and then sat
// idle at least STALE_IDLE_MS (1 s: an upstream that closes a connection for idleness has let it
// idle that long; gunicorn's timeout is 2 s, Node's 5 s): never on a fresh connection, nor on one
// reused at once. Each time it is, /status `counters.upstreamResends` and
// `sluice_upstream_resends_total` count it.
import { afterEach, describe, expect, it } from 'vitest';
import { STALE_IDLE_MS } from '../../src/gateway/upstream-trip.js';
import { cleanup, oneRoute, sleep, startInProcess } from './helpers.js';
import { lineUpstream } from './line-upstream.js';
import { rawExchange, rawGet } from './raw-client.js';

afterEach(cleanup);

/** An upstream that answers 200 to every path but /qod, at which it closes the connection, answering nothing. `seen`: each request line and its connection. */
async function qodUpstream(): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const url = await lineUpstream((line, s, id) => {
    seen.push(`${line} on connection ${id}`);
    if (line.startsWith('GET /qod ')) s.destroy();
    else s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  });
  return { url, seen };
}

describe('a query of death (the upstream closes the connection at it, every time)', () => {
  it('on a fresh connection: sent once, 502', async () => {
    const up = await qodUpstream();
    const gw = await startInProcess(oneRoute(up.url, '5s'));
    const r = await rawExchange(gw.url, rawGet('/qod'));
    expect(r.status).toBe(502);
    expect(JSON.parse(r.body)).toMatchObject({ reason: 'upstream_unreachable' });
    expect(up.seen).toEqual(['GET /qod HTTP/1.1 on connection 1']);
    expect(gw.status().counters).toMatchObject({ upstreamResends: 0, upstreamErrors: 1 });
  }, 30_000);

  it('on a kept-alive connection reused at once: sent once, 502', async () => {
    const up = await qodUpstream();
    const gw = await startInProcess(oneRoute(up.url, '5s'));
    expect((await rawExchange(gw.url, rawGet('/a'))).status).toBe(200);
    const r = await rawExchange(gw.url, rawGet('/qod'));
    expect(r.status).toBe(502);
    // Before: ['GET /a … on connection 1', 'GET /qod … on connection 1', 'GET /qod … on connection 2'].
    expect(up.seen).toEqual(['GET /a HTTP/1.1 on connection 1', 'GET /qod HTTP/1.1 on connection 1']);
    expect(gw.status().counters).toMatchObject({ upstreamResends: 0, upstreamErrors: 1 });
  }, 30_000);

  it('on a connection idle STALE_IDLE_MS or more: taken for a stale one, sent again once, and counted', async () => {
    const up = await qodUpstream();
    const gw = await startInProcess(oneRoute(up.url, '5s'));
    expect((await rawExchange(gw.url, rawGet('/a'))).status).toBe(200);
    await sleep(STALE_IDLE_MS + 200);
    const r = await rawExchange(gw.url, rawGet('/qod'));
    expect(r.status).toBe(502);
    expect(up.seen).toEqual(['GET /a HTTP/1.1 on connection 1', 'GET /qod HTTP/1.1 on connection 1', 'GET /qod HTTP/1.1 on connection 2']);
    expect(gw.status().counters).toMatchObject({ upstreamResends: 1, upstreamErrors: 1 });
    expect(await gw.metrics()).toMatch(/^sluice_upstream_resends_total 1$/m);
  }, 30_000);
});
