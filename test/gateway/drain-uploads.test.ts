// A drain's deadline and a request whose upload is still arriving: it was cut with the rest,
// without an answer — the client could not tell "not served, retry" from a crash. It is
// answered 503 `draining` with Retry-After and Connection: close (it never reached the
// upstream: a retry is safe), and its connection closes. A request already forwarded whose
// response has not begun is still cut at the deadline (the upstream may be working on it: a
// 503 would invite a retry of something perhaps done). In process, on loopback.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, startInProcess, upstream, within } from './helpers.js';
import { rawSocket } from './raw-client.js';

afterEach(cleanup);

describe('the drain deadline and a request still uploading', () => {
  it('is answered 503 draining with Retry-After and Connection: close; the upstream never sees it', async () => {
    const seen: string[] = [];
    const up = await upstream((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.end('ok');
    });
    const gw = await startInProcess(oneRoute(up.url, '5s', { drain: { timeout: '5s', retryAfter: '3s' } }));
    const slow = rawSocket(gw.url);
    slow.socket.write('POST /upload HTTP/1.1\r\nHost: gw\r\nContent-Length: 1000\r\n\r\n' + 'x'.repeat(10));
    expect(await within(5_000, () => gw.status().counters.requests === 1)).toBe(true);
    await gw.drain(200);
    await slow.closed;
    expect(slow.text()).toMatch(/^HTTP\/1\.1 503 /);
    expect(slow.text()).toMatch(/\r\nRetry-After: 3\r\n/i);
    expect(slow.text()).toMatch(/\r\nConnection: close\r\n/i);
    expect(slow.text()).toMatch(/"reason":"draining"/);
    expect(seen).toEqual([]);
  });

  it('a request forwarded and not answered yet is cut at the deadline, without a 503', async () => {
    let arrived = (): void => undefined;
    const atUpstream = new Promise<void>((r) => (arrived = r));
    const up = await upstream(() => arrived());
    const gw = await startInProcess(oneRoute(up.url, '5s'));
    const held = rawSocket(gw.url);
    held.socket.write('GET /held HTTP/1.1\r\nHost: gw\r\n\r\n');
    await atUpstream;
    await gw.drain(200);
    await held.closed;
    expect(held.text()).toBe('');
  });
});
