// What an upstream's head alone does to the answer (hostile-6). An upstream's 304 with a Content-Length (RFC 9110 section 8.6: it may state the length a 200
// would have) or a 204 with one (which it must not send) has no body whatever that length
// says. undici reads the length as a body to come and fails the response
// (UND_ERR_RES_CONTENT_LENGTH_MISMATCH) after its head: the gateway then cut the connection,
// and the client got nothing at all (hostile-6). Now the response goes out, bodiless, and the
// connection serves on. An upstream that fails after its head, before any body byte (a close,
// a body silent past its idleTimeout), was a silent close too — the head had been given to node:http,
// which sends it only with the body: now the client is answered 502 / 504 with the reason.
// In process, on loopback, against an upstream that writes raw bytes.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, startInProcess } from './helpers.js';
import { rawConversation } from './raw-client.js';
import { rawUpstream } from './raw-upstream.js';

afterEach(cleanup);

const H = 'Host: gw\r\n';
const statuses = (text: string): number[] => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));

describe('an upstream response that has no body but states a length', () => {
  it('a 304 with Content-Length goes out with it and no body; the connection serves on', async () => {
    const up = await rawUpstream({
      '/cached': 'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 5\r\n\r\n',
      '/next': 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext',
    });
    const gw = await startInProcess(oneRoute(up.url, '5s'));
    const { text, open } = await rawConversation(gw.url, `GET /cached HTTP/1.1\r\n${H}If-None-Match: "v1"\r\n\r\nGET /next HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
    expect(open).toBe(false);
    expect(statuses(text)).toEqual([304, 200]);
    const first = text.slice(0, text.indexOf('HTTP/1.1 200'));
    expect(first).toMatch(/\r\nETag: "v1"\r\n/i);
    expect(first).toMatch(/\r\nContent-Length: 5\r\n/i);
    expect(first.endsWith('\r\n\r\n')).toBe(true);
    expect(text.endsWith('next')).toBe(true);
    expect(gw.status().counters).toMatchObject({ upstreamErrors: 0 });
    expect(up.seen).toEqual(['/cached', '/next']);
  });

  it('a 204 with Content-Length goes out without it; the connection serves on', async () => {
    const up = await rawUpstream({
      '/empty': 'HTTP/1.1 204 No Content\r\nX-Kept: yes\r\nContent-Length: 5\r\n\r\n',
      '/next': 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext',
    });
    const gw = await startInProcess(oneRoute(up.url, '5s'));
    const { text, open } = await rawConversation(gw.url, `GET /empty HTTP/1.1\r\n${H}\r\nGET /next HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
    expect(open).toBe(false);
    expect(statuses(text)).toEqual([204, 200]);
    const first = text.slice(0, text.indexOf('HTTP/1.1 200'));
    expect(first).toMatch(/\r\nX-Kept: yes\r\n/i);
    expect(first).not.toMatch(/content-length/i);
    expect(text.endsWith('next')).toBe(true);
    expect(up.seen).toEqual(['/empty', '/next']);
  });
});

describe('an upstream that fails after its head, before any of its body', () => {
  it('a close is answered 502, a body silent past its idleTimeout 504; the head never reaches the client', async () => {
    const head = 'HTTP/1.1 200 OK\r\nX-Upstream: half\r\nContent-Length: 10\r\n\r\n';
    const up = await rawUpstream({ '/closed': head, '/stall': head }, { '/closed': 'close', '/stall': 'stall' });
    const gw = await startInProcess({ ...oneRoute(up.url, '5s'), upstreams: { app: { url: up.url, timeout: '5s', idleTimeout: '300ms' } } });
    const closed = await rawConversation(gw.url, `GET /closed HTTP/1.1\r\n${H}\r\n`);
    expect(statuses(closed.text)).toEqual([502]);
    expect(closed.text).toMatch(/"reason":"upstream_unreachable"/);
    expect(closed.text).not.toMatch(/x-upstream/i);
    const stall = await rawConversation(gw.url, `GET /stall HTTP/1.1\r\n${H}\r\n`);
    expect(statuses(stall.text)).toEqual([504]);
    expect(stall.text).toMatch(/"reason":"upstream_timeout"/);
    expect(gw.status().counters).toMatchObject({ upstreamErrors: 1, upstreamTimeouts: 1 });
  });

  it('once some of the body went out, a close cuts the response where it is', async () => {
    const up = await rawUpstream({ '/part': 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc' }, { '/part': 'close' });
    const gw = await startInProcess(oneRoute(up.url, '5s'));
    const { text, open } = await rawConversation(gw.url, `GET /part HTTP/1.1\r\n${H}\r\n`);
    expect(open).toBe(false);
    expect(statuses(text)).toEqual([200]);
    expect(text.endsWith('\r\n\r\nabc')).toBe(true);
  });
});
