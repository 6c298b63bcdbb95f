// Pipelined requests followed by a half-close (the client writes N requests then FIN, as
// `nc -N` does), whatever admission makes of them. The policy: every complete request received
// before the FIN is answered, in order — served, or refused by its policy (429/503), or refused
// for what it is (400) — and then the connection closes; nothing hangs. The exceptions are the
// documented ones (a request that waits in the admission queue with its client's FIN in is
// answered too: queued-client-close.test.ts): a refusal while pausing is engaged
// closes the connection on its backlog (pipelined-refusals.test.ts); bytes after a request
// that said Connection: close, or after a malformed one, are not served. In process, on loopback.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, startInProcess, upstream } from './helpers.js';
import type { GatewayConfig } from '../../src/gateway/index.js';
import { rawConversation } from './raw-client.js';

afterEach(cleanup);

const H = 'Host: gw\r\n';
const statuses = (text: string): number[] => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
const get = (path: string, headers = ''): string => `GET ${path} HTTP/1.1\r\n${H}${headers}\r\n`;
const post = (path: string, body: string): string => `POST ${path} HTTP/1.1\r\n${H}Content-Length: ${body.length}\r\n\r\n${body}`;
const chunked = (path: string, body: string): string => `POST ${path} HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;

async function gateway(extra: Partial<GatewayConfig> = {}): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const up = await upstream((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      seen.push(`${req.method} ${req.url}${body === '' ? '' : ` ${body}`}`);
      setTimeout(() => res.end(`answer to ${req.url}`), 5);
    });
  });
  const gw = await startInProcess(oneRoute(up.url, '5s', extra));
  return { url: gw.url, seen };
}

/** Write `bytes`, half-close, read until the gateway closes (10 s bound: `open` says it did not). */
const halfClosed = (url: string, bytes: string): Promise<{ text: string; open: boolean }> => rawConversation(url, bytes, 10_000, true);

describe('pipelined requests, then a half-close', () => {
  it('GETs, POSTs with a length and chunked POSTs, under a concurrency limit: all answered in order, then the close', async () => {
    const gw = await gateway({ policies: { p: { concurrency: { limit: 1 } } }, routes: [{ path: '/', policy: 'p' }] });
    const { text, open } = await halfClosed(gw.url, get('/a') + post('/b', 'bee') + chunked('/c', 'sea') + get('/d'));
    expect(open).toBe(false);
    expect(statuses(text)).toEqual([200, 200, 200, 200]);
    expect([...text.matchAll(/answer to (\/\w)/g)].map((m) => m[1])).toEqual(['/a', '/b', '/c', '/d']);
    expect(gw.seen).toEqual(['GET /a', 'POST /b bee', 'POST /c sea', 'GET /d']);
  });

  it('refused by a rate limit past its burst (pausing not engaged): each answered 429 in order, then the close', async () => {
    const gw = await gateway({ server: { pauseRefused: '0s' }, policies: { p: { rateLimits: [{ rate: '1/min', burst: 2 }] } }, routes: [{ path: '/', policy: 'p' }] });
    const { text, open } = await halfClosed(gw.url, get('/1') + get('/2') + get('/3') + get('/4'));
    expect(open).toBe(false);
    expect(statuses(text)).toEqual([200, 200, 429, 429]);
    expect(gw.seen).toEqual(['GET /1', 'GET /2']);
  });

  it('more pipelined than the gateway reads ahead (16): all answered, then the close', async () => {
    const gw = await gateway();
    const n = 40;
    const { text, open } = await halfClosed(gw.url, Array.from({ length: n }, (_x, i) => get(`/${i}`)).join(''));
    expect(open).toBe(false);
    expect(statuses(text)).toEqual(Array.from({ length: n }, () => 200));
    expect(gw.seen).toHaveLength(n);
  });

  it('a malformed request among them: those before it answered, it answered 400, nothing after it; then the close', async () => {
    const gw = await gateway();
    const { text, open } = await halfClosed(gw.url, get('/a') + get('/b') + 'GET /c HTTP/1.1\r\nBad Header: x\r\n\r\n' + get('/d'));
    expect(open).toBe(false);
    expect(statuses(text)).toEqual([200, 200, 400]);
    expect(gw.seen).toEqual(['GET /a', 'GET /b']);
  });

  it('a request refused before admission (a path with no canonical form) among them: answered 400, and the close', async () => {
    const gw = await gateway();
    const { text, open } = await halfClosed(gw.url, get('/a') + get('/%2e%2e/etc') + get('/c'));
    expect(open).toBe(false);
    expect(statuses(text)[0]).toBe(200);
    expect(statuses(text)[1]).toBe(400);
    expect(statuses(text)).toHaveLength(2);
    expect(gw.seen).toEqual(['GET /a']);
  });

  it('a body too large among them: answered 413, and the close', async () => {
    const gw = await gateway({ server: { maxBodySize: '10b' } });
    const { text, open } = await halfClosed(gw.url, get('/a') + post('/b', 'x'.repeat(20)) + get('/c'));
    expect(open).toBe(false);
    expect(statuses(text)).toEqual([200, 413]);
    expect(gw.seen).toEqual(['GET /a']);
  });

  it('the FIN in the middle of the last request: the complete ones answered, the partial one 400 incomplete_request', async () => {
    const gw = await gateway();
    const { text, open } = await halfClosed(gw.url, get('/a') + get('/b') + 'GET /c HTTP/1.1\r\nHost: gw\r\n');
    expect(open).toBe(false);
    expect(statuses(text)).toEqual([200, 200, 400]);
    expect(text).toMatch(/"reason":"incomplete_request"/);
    expect(gw.seen).toEqual(['GET /a', 'GET /b']);
  });

  it('a POST whose body the FIN cuts short: the complete ones answered, then 400, nothing forwarded of it', async () => {
    const gw = await gateway();
    const { text, open } = await halfClosed(gw.url, get('/a') + `POST /b HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\nabc`);
    expect(open).toBe(false);
    expect(statuses(text)).toEqual([200, 400]);
    expect(gw.seen).toEqual(['GET /a']);
  });

  it('Expect: 100-continue with its body sent anyway, pipelined: answered in order', async () => {
    const gw = await gateway();
    const { text, open } = await halfClosed(gw.url, get('/a') + `POST /b HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 3\r\n\r\nbee` + get('/c'));
    expect(open).toBe(false);
    expect(statuses(text).filter((s) => s !== 100)).toEqual([200, 200, 200]);
    expect(gw.seen).toEqual(['GET /a', 'POST /b bee', 'GET /c']);
  });
});
