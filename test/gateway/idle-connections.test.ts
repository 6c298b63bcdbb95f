// A connection that never sends a byte (a browser's preconnect, a port scanner, an idle flood) is
// closed at headersTimeout with its 408, as before — but it is not a bad request: nothing was
// requested. Until session 23 each one was counted in badRequests.request_timeout and logged as a
// "bad request": an idle flood of 6,000 connections put 6,000 there (hostile23), and an alert on
// sluice_bad_requests_total fired for clients that had done nothing wrong. They are counted apart
// (counters.idleConnectionsClosed, sluice_connections_idle_closed_total); a client that began a
// head and stalled inside it is still a bad request_timeout.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, metricSample, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawSocket } from './raw-client.js';

afterEach(cleanup);

async function gateway(): Promise<Awaited<ReturnType<typeof startInProcess>>> {
  const up = await upstream((_req, res) => res.end('ok'));
  return startInProcess(oneRoute(up.url, '5s', { server: { headersTimeout: '300ms' } }));
}

describe('a connection that never sends a byte', () => {
  it('is closed at headersTimeout with a 408, counted as an idle connection closed, not as a bad request', async () => {
    const gw = await gateway();
    const idle = [rawSocket(gw.url), rawSocket(gw.url), rawSocket(gw.url)];
    await Promise.all(idle.map((c) => c.closed));
    for (const c of idle) expect(c.text()).toMatch(/^HTTP\/1\.1 408 /);
    expect(gw.status().badRequests.request_timeout).toBe(0);
    expect(gw.status().counters.idleConnectionsClosed).toBe(3);
    const text = (await gw.metrics()) ?? '';
    expect(text).toMatch(/^sluice_connections_idle_closed_total 3$/m);
    expect(metricSample(text, 'sluice_bad_requests_total', { reason: 'request_timeout' }) ?? 0).toBe(0);
  });

  it('one that began a head and stalled inside it is still a bad request_timeout', async () => {
    const gw = await gateway();
    const c = rawSocket(gw.url);
    c.socket.write('GET /x HTTP/1.1\r\nHo');
    await c.closed;
    expect(c.text()).toMatch(/^HTTP\/1\.1 408 /);
    expect(c.text()).toMatch(/"reason":"request_timeout"/);
    expect(gw.status().badRequests.request_timeout).toBe(1);
    expect(gw.status().counters.idleConnectionsClosed).toBe(0);
  });

  it('one that was served and then began a second head and stalled is a bad request_timeout too', async () => {
    const gw = await gateway();
    const c = rawSocket(gw.url);
    c.socket.write('GET /a HTTP/1.1\r\nHost: gw\r\n\r\n');
    await new Promise<void>((resolve) => {
      const check = (): void => (/\r\n\r\nok$/.test(c.text()) ? resolve() : void setTimeout(check, 10));
      check();
    });
    c.socket.write('GET /b HTTP/1.1\r\nHo');
    await c.closed;
    expect([...c.text().matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1])).toEqual(['200', '408']);
    expect(gw.status().badRequests.request_timeout).toBe(1);
    expect(gw.status().counters.idleConnectionsClosed).toBe(0);
  });
});
