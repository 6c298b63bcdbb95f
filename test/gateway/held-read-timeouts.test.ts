// A request whose head the gateway itself stopped reading (session 18). Requests pipelined on a
// connection are served one at a time, and while they wait the connection is not read
// (pipeline-limit.ts): a head cut by the end of a read then stays half-parsed for as long as the
// requests before it take. node:http's headersTimeout runs from a message's first byte, so a
// client that had sent everything at once got 408 "not received in time" for that request, and
// the requests behind it were never answered (10 pipelined 8 kB GETs to a 2 s upstream: 8
// answered, then 408, the rest lost). The gateway's own pause no longer counts against the
// client; a client that really stalls still gets its 408 once the gateway reads again.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawSocket } from './raw-client.js';

afterEach(cleanup);

/** An upstream that answers each request after `ms`, with its path and the bytes of its body. */
async function slowUpstream(ms: number): Promise<string> {
  const up = await upstream((req, res) => {
    let n = 0;
    req.on('data', (d: Buffer) => (n += d.length));
    req.on('end', () => setTimeout(() => res.end(`${req.url}:${n}`), ms));
  });
  return up.url;
}

const get = (path: string, last = false): string => `GET ${path} HTTP/1.1\r\nHost: gw\r\nX-Pad: ${'a'.repeat(2000)}\r\n${last ? 'Connection: close\r\n' : ''}\r\n`;
const statuses = (text: string): string[] => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1]!);

describe('a head the gateway stopped reading', () => {
  it('is not timed out for the wait the gateway imposed: every pipelined request is answered', async () => {
    // headersTimeout 200ms; the third request's head waits behind two requests of 400 ms each.
    const gw = await startInProcess(oneRoute(await slowUpstream(400), '5s', { server: { headersTimeout: '200ms' } }));
    const c = rawSocket(gw.url);
    const third = get('/3', true);
    // Two requests and half of the third's head in one write: the gateway parses them and stops
    // reading (the second waits), holding the third's head half-parsed; the rest follows at once.
    c.socket.write(get('/1') + get('/2') + third.slice(0, 1000));
    await new Promise((r) => setTimeout(r, 50));
    c.socket.write(third.slice(1000));
    await c.closed;
    expect(statuses(c.text())).toEqual(['200', '200', '200']);
    expect([...c.text().matchAll(/\r\n\r\n(\/\d)/g)].map((m) => m[1])).toEqual(['/1', '/2', '/3']);
  });

  it('a client that stalls inside that head still gets 408 once the gateway reads again, and the connection closes', async () => {
    const gw = await startInProcess(oneRoute(await slowUpstream(400), '5s', { server: { headersTimeout: '200ms' } }));
    const c = rawSocket(gw.url);
    c.socket.write(get('/1') + get('/2') + get('/3').slice(0, 1000));
    await c.closed;
    expect(statuses(c.text())).toEqual(['200', '200', '408']);
    expect(c.text()).toMatch(/"reason":"request_timeout"/);
  });

  it('nor is the body of a request that waits its turn: requestTimeout ran out while the gateway held it', async () => {
    // The third request's head and part of its body in the first read; requestTimeout 300ms, two requests of 400 ms before it.
    const gw = await startInProcess(oneRoute(await slowUpstream(400), '5s', { server: { headersTimeout: '200ms', requestTimeout: '300ms' } }));
    const c = rawSocket(gw.url);
    const post = `POST /3 HTTP/1.1\r\nHost: gw\r\nContent-Length: 3000\r\nConnection: close\r\n\r\n${'b'.repeat(3000)}`;
    const cut = post.indexOf('\r\n\r\n') + 1000;
    c.socket.write(get('/1') + get('/2') + post.slice(0, cut));
    await new Promise((r) => setTimeout(r, 50));
    c.socket.write(post.slice(cut));
    await c.closed;
    expect(statuses(c.text())).toEqual(['200', '200', '200']);
    expect(c.text()).toMatch(/\/3:3000$/);
  });

  it('a client that stalls inside that body gets 408 body_timeout at its turn (server.bodyTimeout), and the connection closes', async () => {
    const gw = await startInProcess(oneRoute(await slowUpstream(400), '5s', { server: { headersTimeout: '200ms', requestTimeout: '300ms', bodyTimeout: '300ms' } }));
    const c = rawSocket(gw.url);
    const post = `POST /3 HTTP/1.1\r\nHost: gw\r\nContent-Length: 3000\r\n\r\n${'b'.repeat(1000)}`;
    c.socket.write(get('/1') + get('/2') + post);
    await c.closed;
    expect(statuses(c.text())).toEqual(['200', '200', '408']);
    expect(c.text()).toMatch(/"reason":"body_timeout"/);
  });

  it('nor is a request whose client waits for the 100 Continue the gateway holds back while it queues for admission', async () => {
    // requestTimeout 300ms; the slot is busy for 800 ms. Until session 18 the client, waiting for its
    // 100 as told, got 408 'not received in time' at 300 ms (a queueTimeout may be up to 10m).
    const gw = await startInProcess(oneRoute(await slowUpstream(800), '5s', {
      server: { headersTimeout: '200ms', requestTimeout: '300ms' },
      routes: [{ path: '/', policy: { concurrency: { limit: 1, queue: 4, queueTimeout: '5s' } } }],
    }));
    const busy = rawSocket(gw.url);
    busy.socket.write(get('/1', true));
    await new Promise((r) => setTimeout(r, 100));
    const c = rawSocket(gw.url);
    c.socket.write('POST /2 HTTP/1.1\r\nHost: gw\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n');
    await expect.poll(() => c.text(), { timeout: 10_000 }).toMatch(/^HTTP\/1\.1 [14]\d\d /);
    expect(c.text()).toMatch(/^HTTP\/1\.1 100 Continue\r\n/);
    c.socket.write('hello');
    await c.closed;
    expect(statuses(c.text())).toEqual(['100', '200']);
    expect(c.text()).toMatch(/\/2:5$/);
    await busy.closed;
  });

  it('nor is a body the client sends after its 100 Continue came: it is read within bodyTimeout of the 100, whatever part of requestTimeout the wait took', async () => {
    // requestTimeout 300ms. The slot is free: the 100 comes at once, and the client sends its body
    // after 700 ms. Until this session node:http's requestTimeout, from the head's first byte,
    // still ran for it: a 100 sent late in a queue's wait (here at once) left the client the rest
    // of requestTimeout for its body, and it got 408 request_timeout (once at load 45, the 100
    // sent after a wait shorter than requestTimeout and the body a moment late).
    const gw = await startInProcess(oneRoute(await slowUpstream(0), '5s', {
      server: { headersTimeout: '200ms', requestTimeout: '300ms', bodyTimeout: '20s' },
    }));
    const c = rawSocket(gw.url);
    c.socket.write('POST /2 HTTP/1.1\r\nHost: gw\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n');
    await expect.poll(() => c.text(), { timeout: 10_000 }).toMatch(/^HTTP\/1\.1 [14]\d\d /);
    expect(c.text()).toMatch(/^HTTP\/1\.1 100 Continue\r\n/);
    // The client's own pause, past requestTimeout and its checks (every 50 ms here).
    await new Promise((r) => setTimeout(r, 700));
    c.socket.write('hello');
    await c.closed;
    expect(statuses(c.text())).toEqual(['100', '200']);
    expect(c.text()).toMatch(/\/2:5$/);
  });
});
