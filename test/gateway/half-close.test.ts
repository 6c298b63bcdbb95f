// A client that half-closes its connection once its requests are written (shutdown(SHUT_WR),
// as `nc -N` and many scripts do) still reads: it gets every answer, then the close (hostile-3
// H2). node:http's default aborted its requests at the FIN, after the gateway had admitted and
// forwarded them: the upstream worked, the slot was spent, and the client got nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawConversation } from './raw-client.js';

afterEach(cleanup);

const H = 'Host: gw\r\n';

describe('half-closed clients', () => {
  it('a request written then half-closed is answered, and the connection ends after it', async () => {
    const seen: string[] = [];
    // Slow enough that the FIN is in before the answer, whatever the machine's load.
    const up = await upstream((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      setTimeout(() => res.end(`answer to ${req.url}`), 100);
    });
    const gw = await startInProcess(oneRoute(up.url, '5s', { policies: { p: { concurrency: { limit: 1 } } }, routes: [{ path: '/', policy: 'p' }] }));
    const { text, open } = await rawConversation(gw.url, `GET /one HTTP/1.1\r\n${H}\r\n`, 10_000, true);
    expect(open).toBe(false);
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text).toContain('answer to /one');
    expect(seen).toEqual(['GET /one']);
    // Its slot came back: the next request (the limit is 1) is admitted.
    const next = await rawConversation(gw.url, `GET /two HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, 10_000);
    expect(next.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(gw.status().counters).toMatchObject({ admitted: 2, rejected: 0 });
  });

  it('requests pipelined before the half-close are all answered, in order', async () => {
    const up = await upstream((req, res) => setTimeout(() => res.end(`answer to ${req.url}`), 50));
    const gw = await startInProcess(oneRoute(up.url, '5s'));
    const { text, open } = await rawConversation(gw.url, `GET /a HTTP/1.1\r\n${H}\r\nGET /b HTTP/1.1\r\n${H}\r\nGET /c HTTP/1.1\r\n${H}\r\n`, 10_000, true);
    expect(open).toBe(false);
    expect([...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1])).toEqual(['200', '200', '200']);
    expect([...text.matchAll(/answer to (\/\w)/g)].map((m) => m[1])).toEqual(['/a', '/b', '/c']);
  });

  it('the answer after which the connection closes says Connection: close; earlier pipelined ones keep it alive (hostile-9)', async () => {
    // Before: every head said Connection: keep-alive (and Keep-Alive: timeout=5), then the gateway closed.
    const up = await upstream((req, res) => setTimeout(() => res.end(`answer to ${req.url}`), 100));
    const gw = await startInProcess(oneRoute(up.url, '5s'));
    const one = await rawConversation(gw.url, `GET /one HTTP/1.1\r\n${H}\r\n`, 10_000, true);
    expect(one.open).toBe(false);
    expect(one.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(one.text).toMatch(/\r\nConnection: close\r\n/i);
    expect(one.text).not.toMatch(/keep-alive/i);
    const three = await rawConversation(gw.url, `GET /a HTTP/1.1\r\n${H}\r\nGET /b HTTP/1.1\r\n${H}\r\nGET /c HTTP/1.1\r\n${H}\r\n`, 10_000, true);
    expect(three.open).toBe(false);
    expect([...three.text.matchAll(/\r\nConnection: ([\w-]+)\r\n/gi)].map((m) => m[1])).toEqual(['keep-alive', 'keep-alive', 'close']);
    expect([...three.text.matchAll(/answer to (\/\w)/g)].map((m) => m[1])).toEqual(['/a', '/b', '/c']);
  });

  it('so does the answer to an Expect: 100-continue request, its body sent with it before the half-close', async () => {
    // Before: node:http emits such a request as 'checkContinue', not 'request', and the half-close
    // watch followed 'request' only: the answer said Connection: keep-alive, then the gateway closed.
    const up = await upstream((req, res) => {
      req.resume();
      req.on('end', () => setTimeout(() => res.end(`answer to ${req.url}`), 100));
    });
    const gw = await startInProcess(oneRoute(up.url, '5s'));
    const r = await rawConversation(gw.url, `POST /up HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello`, 10_000, true);
    expect(r.open).toBe(false);
    expect(r.text).toContain('answer to /up');
    const final = r.text.slice(r.text.lastIndexOf('HTTP/1.1 '));
    expect(final).toMatch(/^HTTP\/1\.1 200 /);
    expect(final).toMatch(/\r\nConnection: close\r\n/i);
    expect(final).not.toMatch(/keep-alive/i);
  });

  it('a half-close mid-request is still a 400 incomplete_request, and an idle connection closes at the FIN', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess(oneRoute(up.url, '5s'));
    const partial = await rawConversation(gw.url, `GET /a HTTP/1.1\r\n${H}`, 10_000, true);
    expect(partial.text).toMatch(/^HTTP\/1\.1 400 /);
    expect(gw.status().badRequests.incomplete_request).toBe(1);
    const idle = await rawConversation(gw.url, '', 10_000, true);
    expect(idle).toEqual({ text: '', open: false });
  });
});
