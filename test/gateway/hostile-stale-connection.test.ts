// hostile-27: an upstream that closes an idle keep-alive connection (gunicorn's 2 s, any server
// whose idle timeout is shorter than undici's 4 s and that sends no Keep-Alive: timeout) races
// the gateway: a request written on the connection as the upstream closes it fails 'other side
// closed' before any response byte, and was answered 502 upstream_unreachable — 2 of 40 requests
// sent about when the connection idled out, in a probe. Such a request of an idempotent method
// (RFC 9110 section 9.2.2) is sent once more on a new connection, as RFC 9112 section 9.3.1
// allows; a POST is not (the upstream may have acted on it): still 502.
//
// The race made certain: this upstream answers the first request of each connection and closes
// the connection, answering nothing, at any later one. Each request after the first goes on a
// connection idle STALE_IDLE_MS (1 s) and more: only then is it taken for stale and sent again —
// a connection reused sooner that closes at a request was closed by it (a query of death:
// test/gateway/upstream-query-of-death.test.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { STALE_IDLE_MS } from '../../src/gateway/upstream-trip.js';
import { cleanup, oneRoute, sleep, startInProcess } from './helpers.js';
import { lineUpstream } from './line-upstream.js';
import { rawExchange } from './raw-client.js';

afterEach(cleanup);

/** `always`: every request after the server's first is closed on, a new connection's first too. */
async function closesOnSecondRequest(always = false): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  let answered = 0;
  const url = await lineUpstream((line, s, id, served) => {
    if (served > 0 || (always && answered > 0)) {
      seen.push(`${line} on connection ${id}: closed`);
      s.end();
      return;
    }
    answered++;
    seen.push(`${line} on connection ${id}: answered`);
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  });
  return { url, seen };
}

/** Longer than STALE_IDLE_MS: the kept-alive connection is stale. */
const idle = (): Promise<void> => sleep(STALE_IDLE_MS + 200);

const request = (method: string, target: string, body = ''): string => `${method} ${target} HTTP/1.1\r\nHost: gw\r\n${body ? `Content-Length: ${body.length}\r\n` : ''}Connection: close\r\n\r\n${body}`;

describe('an upstream that closes a kept-alive connection as a request goes out on it (hostile-27)', () => {
  it('an idempotent request is sent again on a new connection; a POST is answered 502', async () => {
    const up = await closesOnSecondRequest();
    const gw = await startInProcess(oneRoute(up.url, '5s'));
    expect((await rawExchange(gw.url, request('GET', '/a'))).status).toBe(200);
    await idle();
    const b = await rawExchange(gw.url, request('GET', '/b'));
    expect(b.status).toBe(200);
    expect(b.body).toBe('ok');
    await idle();
    const put = await rawExchange(gw.url, request('PUT', '/c', 'abc'));
    expect(put.status).toBe(200);
    await idle();
    const post = await rawExchange(gw.url, request('POST', '/d', 'abc'));
    expect(post.status).toBe(502);
    expect(JSON.parse(post.body)).toMatchObject({ reason: 'upstream_unreachable' });
    expect(up.seen).toEqual([
      'GET /a HTTP/1.1 on connection 1: answered',
      'GET /b HTTP/1.1 on connection 1: closed',
      'GET /b HTTP/1.1 on connection 2: answered',
      'PUT /c HTTP/1.1 on connection 2: closed',
      'PUT /c HTTP/1.1 on connection 3: answered',
      'POST /d HTTP/1.1 on connection 3: closed',
    ]);
    expect(gw.status().counters).toMatchObject({ upstreamResends: 2, upstreamErrors: 1 });
  }, 60_000);

  it('is sent again at most once: a new connection that closes under it too is the client\'s 502', async () => {
    const up = await closesOnSecondRequest(true);
    const gw = await startInProcess(oneRoute(up.url, '5s'));
    expect((await rawExchange(gw.url, request('GET', '/a'))).status).toBe(200);
    await idle();
    const b = await rawExchange(gw.url, request('GET', '/b'));
    expect(b.status).toBe(502);
    expect(JSON.parse(b.body)).toMatchObject({ reason: 'upstream_unreachable' });
    expect(up.seen).toEqual(['GET /a HTTP/1.1 on connection 1: answered', 'GET /b HTTP/1.1 on connection 1: closed', 'GET /b HTTP/1.1 on connection 2: closed']);
    expect(gw.status().counters).toMatchObject({ upstreamResends: 1, upstreamErrors: 1 });
  }, 60_000);
});
