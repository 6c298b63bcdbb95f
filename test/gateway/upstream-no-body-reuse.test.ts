// A 204 or 304 that states a transfer coding (RFC 9112 section 6.1: a 204 never may; a 304
// may, naming the 200's) has no body, but its upstream may mean one by it and send it after
// the head — a handler that flushes its head, then writes a chunked body. On a kept
// connection, once the next request was on its way, those bytes were read as the start of
// that request's response: another client was answered 502 upstream_invalid_response, and
// its failure counted against the upstream (hostile-10). Now the 204 or 304 is relayed as
// it is complete, and its upstream connection closed. On loopback, one upstream connection.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, oneRoute, startInProcess } from './helpers.js';
import { lateBodyUpstream } from './raw-upstream.js';

afterEach(cleanup);

const CHUNKED = 'Transfer-Encoding: chunked\r\n\r\n';
const LATE = '0e\r\nthe late body!\r\n0\r\n\r\n';

describe('a 204 or 304 stating a transfer coding', () => {
  it('is relayed, and what its upstream sends after it answers no later request', async () => {
    const up = await lateBodyUpstream({
      '/204': { head: `HTTP/1.1 204 No Content\r\n${CHUNKED}`, late: LATE },
      '/304': { head: `HTTP/1.1 304 Not Modified\r\nETag: "e1"\r\n${CHUNKED}`, late: LATE },
    });
    const gw = await startInProcess(oneRoute(up.url, '5s', { upstreams: { app: { url: up.url, timeout: '5s', maxSockets: 1 } } }));
    const none = await get(gw.url, { path: '/204' });
    expect(none).toMatchObject({ status: 204, body: '' });
    expect(none.headers['transfer-encoding']).toBeUndefined();
    expect(await get(gw.url, { path: '/after-204' })).toMatchObject({ status: 200, body: '/after-204' });
    const same = await get(gw.url, { path: '/304' });
    expect(same).toMatchObject({ status: 304, body: '' });
    expect(same.headers.etag).toBe('"e1"');
    expect(await get(gw.url, { path: '/after-304' })).toMatchObject({ status: 200, body: '/after-304' });
    expect(up.seen).toEqual(['/204', '/after-204', '/304', '/after-304']);
    expect(gw.status().counters).toMatchObject({ upstreamInvalid: 0, upstreamErrors: 0 });
    expect(up.connections()).toBe(3);
  });
});
