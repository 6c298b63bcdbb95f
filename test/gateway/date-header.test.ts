// Every 4xx the gateway writes itself carries a Date (RFC 9110 section 6.6.1: an origin server
// with a clock MUST send one in a 2xx, 3xx or 4xx response; the gateway is the origin of its own
// refusals). Until hostile-23 the answers written straight on the socket — a request the parser
// refused (400, 413, 414, 431), a head not received in time (408), CONNECT (405), HTTP/0.9 (505)
// — had none, while the refusals node:http writes (a 400 for a path, 429/503) had one; nor had the
// admin listener's own (admin-errors.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawExchange, rawSocket } from './raw-client.js';

afterEach(cleanup);

/** The Date field of a response head, parsed (NaN when there is none or it is not an HTTP date). */
function dateOf(head: string): number {
  const m = /\r\ndate: ([^\r]*)/i.exec(head);
  // IMF-fixdate (RFC 9110 section 5.6.7), the only form a sender may generate.
  if (m === null || !/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(m[1]!)) return NaN;
  return Date.parse(m[1]!);
}

const H = 'Host: gw\r\n';
/** [what, bytes, status]: one of each way the gateway answers on the socket itself. */
const RAW: readonly (readonly [string, string, number])[] = [
  ['a malformed request line', `G@T /x HTTP/1.1\r\n${H}\r\n`, 400],
  ['NUL in the target', `GET /x\x00 HTTP/1.1\r\n${H}\r\n`, 400],
  ['obs-fold', `GET /x HTTP/1.1\r\n${H}X-A: a\r\n b\r\n\r\n`, 400],
  ['Content-Length and Transfer-Encoding', `POST /x HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
  ['a chunk size that is not hex', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`, 400],
  ['a target over maxHeaderSize', `GET /${'a'.repeat(20_000)} HTTP/1.1\r\n${H}\r\n`, 414],
  ['headers over maxHeaderSize', `GET /x HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
  ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 405],
  ['HTTP/0.9', 'GET /x\r\n', 505],
  ['a head never finished', `GET /x HTTP/1.1\r\n${H}`, 408],
  // Answered by node:http's response (always dated): the check's own control.
  ['an encoded slash', `GET /a%2fb HTTP/1.1\r\n${H}\r\n`, 400],
];

describe('the Date of the answers the gateway writes itself', () => {
  it('is in every answer written on the socket (5xx too, which RFC 9110 leaves optional)', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess(oneRoute(up.url, '2s', { server: { maxHeaderSize: '16kb', headersTimeout: '300ms', requestTimeout: '600ms' } }));
    const missing: string[] = [];
    const started = Date.now();
    for (const [what, bytes, status] of RAW) {
      const r = await rawExchange(gw.url, bytes);
      expect(r.status, what).toBe(status);
      const at = dateOf(r.head);
      // The wall clock, to the second the field holds: a figure no busy host can push out.
      if (!(at >= Math.floor(started / 1000) * 1000 && at <= Date.now())) missing.push(`${what} (${status}): ${/\r\ndate: [^\r]*/i.exec(r.head)?.[0].trim() ?? 'no Date'}`);
    }
    expect(missing).toEqual([]);
  }, 60_000);

  it('is in the admin listener\'s answers written on the socket too', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess(oneRoute(up.url, '2s'));
    const missing: string[] = [];
    const started = Date.now();
    for (const [what, bytes, status] of RAW.filter(([, , s]) => s !== 408)) {
      const r = await rawExchange(gw.adminUrl, bytes);
      // The admin listener judges some inputs otherwise (a path: 404); only its own raw answers are in question here.
      if (r.status === 0 || r.status === 404) continue;
      expect(r.status, what).toBe(status);
      const at = dateOf(r.head);
      if (!(at >= Math.floor(started / 1000) * 1000 && at <= Date.now())) missing.push(`${what} (${status}): ${/\r\ndate: [^\r]*/i.exec(r.head)?.[0].trim() ?? 'no Date'}`);
    }
    expect(missing).toEqual([]);
  }, 60_000);

  it('is the time the answer is written, not the time of the error: an answer that waits behind a slow response is dated when it goes', async () => {
    // review23: the answer was built (and dated) when the parser refused the request, then sent
    // after the responses before it — behind a 3 s upstream, 3 s stale.
    const up = await upstream((req, res) => void setTimeout(() => res.end('ok'), req.url === '/slow' ? 3000 : 0));
    const gw = await startInProcess(oneRoute(up.url, '10s'));
    const bad = `GET /x\x00 HTTP/1.1\r\n${H}\r\n`;
    // Behind the request in flight alone, and behind one waiting its turn after it (answerAfter).
    for (const before of [`GET /slow HTTP/1.1\r\n${H}\r\n`, `GET /slow HTTP/1.1\r\n${H}\r\nGET /a HTTP/1.1\r\n${H}\r\n`]) {
      const sent = Date.now();
      const c = rawSocket(gw.url);
      c.socket.write(before + bad);
      await c.closed;
      const heads = c.text().split(/(?=HTTP\/1\.1 \d{3} )/);
      const answer = heads.at(-1)!;
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      // Written after the 3 s response: dated at least 2 whole seconds after the second it was sent in.
      expect(dateOf(answer)).toBeGreaterThanOrEqual(Math.floor(sent / 1000) * 1000 + 2000);
    }
  }, 60_000);
});
