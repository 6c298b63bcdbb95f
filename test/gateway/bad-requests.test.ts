// Every bad request gets an answer (issue 10, finding 3): hostile inputs written as raw bytes
// to the gateway, each answered with its status and counted under its reason, and none of
// them forwarded — the upstream records every request it receives and must see none.
import { afterEach, describe, expect, it } from 'vitest';
import type { BadRequestReason } from '../../src/gateway/bad-requests.js';
import { cleanup, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawConversation, rawExchange, rawGet, rawSocket } from './raw-client.js';

afterEach(cleanup);

const H = 'Host: gw\r\n';
const post = (headers: string, body = ''): string => `POST /x HTTP/1.1\r\n${H}${headers}\r\n${body}`;

/** [what, bytes, status, reason]. */
export const HOSTILE: readonly (readonly [string, string, number, BadRequestReason])[] = [
  // The request line.
  ['junk after the version', `GET /x HTTP/1.1 extra\r\n${H}\r\n`, 400, 'bad_request_line'],
  ['no target', `GET\r\n${H}\r\n`, 400, 'bad_request_line'],
  ['a method that is not a token', `G@T /x HTTP/1.1\r\n${H}\r\n`, 400, 'bad_request_line'],
  // hostile-5: a tab after the method was taken for a line without a version (505).
  ['a tab after the method', `GET\t/x HTTP/1.1\r\n${H}\r\n`, 400, 'bad_request_line'],
  // A well-formed line with a method the parser does not know: 501 (RFC 9110 section 9.1), not a malformed line.
  ['an unknown method', `FOO /x HTTP/1.1\r\n${H}\r\n`, 501, 'method_not_implemented'],
  ['a lowercase method', `get /x HTTP/1.1\r\n${H}\r\n`, 501, 'method_not_implemented'],
  ['the HTTP/2 preface (h2c with prior knowledge)', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 505, 'bad_version'],
  ['a space in the target', `GET /a b HTTP/1.1\r\n${H}\r\n`, 400, 'bad_request_line'],
  ['bare LF line ends', `GET /x HTTP/1.1\n${H.replace('\r', '')}\n`, 400, 'bad_request_line'],
  ['CR without LF', `GET /x HTTP/1.1\r${H}\r\n`, 400, 'bad_request_line'],
  ['HTTP/9.9', `GET /x HTTP/9.9\r\n${H}\r\n`, 505, 'bad_version'],
  ['HTTP/2.0 as text', `GET /x HTTP/2.0\r\n${H}\r\n`, 505, 'bad_version'],
  ['HTTP/0.9 (no version)', `GET /x\r\n${H}\r\n`, 505, 'bad_version'],
  // An HTTP/0.9 client sends its request line alone and waits (hostile finding F6): answered at once, not after headersTimeout.
  ['HTTP/0.9, the request line alone', 'GET /x\r\n', 505, 'bad_version'],
  ['HTTP/0.9, the request line alone with a bare LF', 'GET /x\n', 505, 'bad_version'],
  ['CONNECT without a version (answered and counted once)', `CONNECT /\r\n${H}\r\n`, 505, 'bad_version'],
  ['a control character in the target', `GET /x\x01y HTTP/1.1\r\n${H}\r\n`, 400, 'bad_target'],
  ['NUL in the target', `GET /x\x00 HTTP/1.1\r\n${H}\r\n`, 400, 'bad_target'],
  ['a tab in the target', `GET /a\tb HTTP/1.1\r\n${H}\r\n`, 400, 'bad_target'],
  ['non-ASCII in the target', `GET /caf\xe9 HTTP/1.1\r\n${H}\r\n`, 400, 'bad_target'],
  ['an asterisk target for GET', `GET * HTTP/1.1\r\n${H}\r\n`, 400, 'bad_target'],
  ['an absolute target for another host', `GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n`, 400, 'foreign_target'],
  // Headers.
  ['a control character in a header value', `GET /x HTTP/1.1\r\n${H}X-A: a\x01b\r\n\r\n`, 400, 'bad_header'],
  ['NUL in a header value', `GET /x HTTP/1.1\r\n${H}X-A: a\x00b\r\n\r\n`, 400, 'bad_header'],
  ['a control character in a header name', `GET /x HTTP/1.1\r\n${H}X\x01A: ab\r\n\r\n`, 400, 'bad_header'],
  ['a space before the colon', `GET /x HTTP/1.1\r\n${H}X-A : ab\r\n\r\n`, 400, 'bad_header'],
  ['an empty header name', `GET /x HTTP/1.1\r\n${H}: v\r\n\r\n`, 400, 'bad_header'],
  ['obs-fold', `GET /x HTTP/1.1\r\n${H}X-A: a\r\n b\r\n\r\n`, 400, 'obs_fold'],
  ['no Host on HTTP/1.1', 'GET /x HTTP/1.1\r\n\r\n', 400, 'missing_host'],
  ['two Host headers', `GET /x HTTP/1.1\r\n${H}Host: other\r\n\r\n`, 400, 'duplicate_host'],
  // A Host that is not host[:port] would reach the upstream in X-Forwarded-Host and Forwarded (hostile-3 H1).
  ['a space in Host', 'GET /x HTTP/1.1\r\nHost: a b\r\n\r\n', 400, 'bad_host'],
  ['userinfo in Host', 'GET /x HTTP/1.1\r\nHost: evil@gw\r\n\r\n', 400, 'bad_host'],
  ['a path in Host', 'GET /x HTTP/1.1\r\nHost: gw/admin\r\n\r\n', 400, 'bad_host'],
  ['a port that is not a number', 'GET /x HTTP/1.1\r\nHost: gw:80x\r\n\r\n', 400, 'bad_host'],
  // No server has it, and a URL parser building links from X-Forwarded-Host throws on it (hostile-8).
  ['a port over 65535', 'GET /x HTTP/1.1\r\nHost: gw:99999\r\n\r\n', 400, 'bad_host'],
  ['a port over 65535 after an IP literal', 'GET /x HTTP/1.1\r\nHost: [::1]:65536\r\n\r\n', 400, 'bad_host'],
  // A list to X-Forwarded-Host readers: two hosts, the last of them the attacker's (hostile-5).
  ['a comma in Host', 'GET /x HTTP/1.1\r\nHost: gw,evil.example\r\n\r\n', 400, 'bad_host'],
  ['a comma in an IPvFuture Host', 'GET /x HTTP/1.1\r\nHost: [v1.a,b]\r\n\r\n', 400, 'bad_host'],
  ['headers over maxHeaderSize', `GET /x HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431, 'headers_too_large'],
  ['a header name over maxHeaderSize', `GET /x HTTP/1.1\r\n${H}X${'a'.repeat(20_000)}: v\r\n\r\n`, 431, 'headers_too_large'],
  // The target is counted with the headers, and node:http reports both as a header overflow: told apart (hostile-5).
  ['a target over maxHeaderSize', `GET /${'a'.repeat(60_000)} HTTP/1.1\r\n${H}\r\n`, 414, 'uri_too_long'],
  ['a query over maxHeaderSize', `GET /x?q=${'a'.repeat(20_000)} HTTP/1.1\r\n${H}\r\n`, 414, 'uri_too_long'],
  ['a target longer than a read (200 kB)', `GET /${'a'.repeat(200_000)} HTTP/1.1\r\n${H}\r\n`, 414, 'uri_too_long'],
  // Framing.
  ['Content-Length then Transfer-Encoding', post('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'), 400, 'content_length_and_transfer_encoding'],
  ['Transfer-Encoding then Content-Length', post('Transfer-Encoding: chunked\r\nContent-Length: 5\r\n', '0\r\n\r\n'), 400, 'content_length_and_transfer_encoding'],
  ['two different Content-Lengths', post('Content-Length: 5\r\nContent-Length: 6\r\n', 'hello!'), 400, 'duplicate_content_length'],
  ['two equal Content-Lengths', post('Content-Length: 5\r\nContent-Length: 5\r\n', 'hello'), 400, 'duplicate_content_length'],
  ['a Content-Length that is not a number', post('Content-Length: 5x\r\n', 'hello'), 400, 'bad_content_length'],
  ['a negative Content-Length', post('Content-Length: -1\r\n'), 400, 'bad_content_length'],
  // RFC 9112: a last coding other than chunked leaves the length unknown (section 6.3: 400), a malformed value is 400,
  // and only a coding the gateway does not implement before a final chunked is 501 (section 6.1) — all 501 until gateway-edges.
  ['Transfer-Encoding: xchunked', post('Transfer-Encoding: xchunked\r\n', '0\r\n\r\n'), 400, 'bad_transfer_encoding'],
  ['Transfer-Encoding: gzip', post('Transfer-Encoding: gzip\r\n', 'x'), 400, 'bad_transfer_encoding'],
  ['an empty Transfer-Encoding', post('Transfer-Encoding: \r\n', '0\r\n\r\n'), 400, 'bad_transfer_encoding'],
  ['a quoted Transfer-Encoding', post('Transfer-Encoding: "chunked"\r\n', '0\r\n\r\n'), 400, 'bad_transfer_encoding'],
  ['a Transfer-Encoding that is no token', post('Transfer-Encoding: g@p, chunked\r\n', '0\r\n\r\n'), 400, 'bad_transfer_encoding'],
  ['chunked with a parameter', post('Transfer-Encoding: chunked;a=b\r\n', '0\r\n\r\n'), 400, 'bad_transfer_encoding'],
  ['Transfer-Encoding: gzip, chunked', post('Transfer-Encoding: gzip, chunked\r\n', '0\r\n\r\n'), 501, 'unsupported_transfer_encoding'],
  ['gzip, then chunked on a second line', post('Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'), 501, 'unsupported_transfer_encoding'],
  ['chunked not last', post('Transfer-Encoding: chunked, gzip\r\n', '0\r\n\r\n'), 400, 'bad_transfer_encoding'],
  ['chunked twice', post('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'), 400, 'bad_transfer_encoding'],
  ['a space before the colon of Transfer-Encoding', post('Transfer-Encoding : chunked\r\n', '0\r\n\r\n'), 400, 'bad_header'],
  ['Transfer-Encoding on HTTP/1.0', `POST /x HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400, 'bad_transfer_encoding'],
  ['a chunk size that is not hex', post('Transfer-Encoding: chunked\r\n', 'zz\r\nhello\r\n0\r\n\r\n'), 400, 'bad_chunk'],
  ['a chunk size that overflows', post('Transfer-Encoding: chunked\r\n', 'ffffffffffffffffffff\r\nhello\r\n0\r\n\r\n'), 400, 'bad_chunk'],
  ['a chunk without its CRLF', post('Transfer-Encoding: chunked\r\n', '5\r\nhelloXX0\r\n\r\n'), 400, 'bad_chunk'],
  ['a control character in a chunk extension', post('Transfer-Encoding: chunked\r\n', '5;a\x01\r\nhello\r\n0\r\n\r\n'), 400, 'bad_chunk'],
  // Methods.
  ['CONNECT', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 405, 'method_not_allowed'],
  ['TRACE', `TRACE /x HTTP/1.1\r\n${H}\r\n`, 405, 'method_not_allowed'],
  // Paths with no canonical form (canonical-path.ts).
  ['an encoded slash', rawGet('/a%2fb'), 400, 'encoded_slash'],
  ['a backslash', rawGet('/a\\..\\b'), 400, 'backslash'],
  ['an encoded NUL', rawGet('/a%00'), 400, 'control_char'],
  ['.. above the root', rawGet('/../x'), 400, 'above_root'],
];

/** An upstream that reads each request whole, answers ok, and records `METHOD target`. */
async function recordingUpstream(): Promise<{ seen: string[]; up: Awaited<ReturnType<typeof upstream>> }> {
  const seen: string[] = [];
  const up = await upstream((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  return { seen, up };
}

describe('bad requests', () => {
  it('each hostile input is answered with its status, counted under its reason, and never forwarded', async () => {
    const { seen, up } = await recordingUpstream();
    const gw = await startInProcess(oneRoute(up.url, '2s', { server: { maxHeaderSize: '16kb' } }));
    const answers: string[] = [];
    for (const [what, bytes, status, reason] of HOSTILE) {
      const before = seen.length;
      const r = await rawExchange(gw.url, bytes);
      answers.push(`${what}: ${r.status}`);
      if (seen.length > before) answers.push(`forwarded: ${what}`);
      if (r.status === 0) continue;
      expect(r.head, what).toMatch(/\r\nconnection: close/i);
      // The reason it is counted under is in the body too, for a program (hostile-4: only 429/503 refusals carried one).
      expect(JSON.parse(r.body), what).toMatchObject({ status, reason, detail: expect.any(String) });
      if (status === 405) expect(r.head, what).toMatch(/\r\nallow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS/i);
    }
    expect(answers).toEqual(HOSTILE.map(([what, , status]) => `${what}: ${status}`));
    expect(seen).toEqual([]);
    const want: Partial<Record<BadRequestReason, number>> = {};
    for (const [, , , reason] of HOSTILE) want[reason] = (want[reason] ?? 0) + 1;
    const counted = gw.status().badRequests;
    expect(Object.fromEntries(Object.entries(counted).filter(([, n]) => n > 0))).toEqual(want);
    // The gateway still serves.
    expect((await rawExchange(gw.url, rawGet('/x'))).status).toBe(200);
    expect(seen).toEqual(['GET /x']);
  }, 60_000);

  it('every form of host[:port] in Host is forwarded (an IP literal, a port, an escape, empty; an IPvFuture literal such as [v1.x], which a URL parser refuses, is not since hostile-13: message-checks.test.ts)', async () => {
    const { seen, up } = await recordingUpstream();
    const gw = await startInProcess(oneRoute(up.url, '2s'));
    const hosts = ['gw', 'gw:8080', 'GW.example.com.', '127.0.0.1:80', '[::1]:8080', 'caf%C3%A9', 'gw:', ''];
    const statuses: string[] = [];
    for (const h of hosts) statuses.push(`${h}: ${(await rawExchange(gw.url, `GET /x HTTP/1.1\r\nHost: ${h}\r\nConnection: close\r\n\r\n`)).status}`);
    expect(statuses).toEqual(hosts.map((h) => `${h}: 200`));
    expect(seen).toHaveLength(hosts.length);
    expect(gw.status().badRequests.bad_host).toBe(0);
  });

  it('a body that breaks the parser is not forwarded, even over a warm upstream connection', async () => {
    const { seen, up } = await recordingUpstream();
    const gw = await startInProcess(oneRoute(up.url, '2s'));
    const broken = HOSTILE.filter(([, , , reason]) => reason === 'bad_chunk' || reason === 'unsupported_transfer_encoding' || reason === 'bad_transfer_encoding');
    for (const [what, bytes, status] of broken) {
      // A good request first: the gateway's pool holds an idle keep-alive connection to the upstream.
      expect((await rawExchange(gw.url, post('Content-Length: 2\r\nConnection: close\r\n', 'ok'))).status).toBe(200);
      expect((await rawExchange(gw.url, bytes)).status, what).toBe(status);
    }
    expect(seen).toEqual(broken.map(() => 'POST /x'));
  });

  it('garbage pipelined behind a good request: the good one is answered first, then a 400, then the close', async () => {
    const up = await upstream((_req, res) => setTimeout(() => res.end('first'), 50));
    const gw = await startInProcess(oneRoute(up.url, '2s'));
    const { text: all, open } = await rawConversation(gw.url, `GET /x HTTP/1.1\r\n${H}\r\nG@RBAGE /y HTTP/1.1\r\n${H}\r\n`);
    expect(open).toBe(false);
    const statuses = [...all.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
    expect(statuses).toEqual([200, 400]);
    expect(all.indexOf('first')).toBeLessThan(all.lastIndexOf('HTTP/1.1 400'));
    expect(gw.status().badRequests.bad_request_line).toBe(1);
  });

  /** A good GET, then a POST with `te` and the bytes 'abc', pipelined: the statuses, the last answer's body, what reached the upstream, what was counted. */
  async function behindGoodRequest(te: string): Promise<{ statuses: number[]; last: unknown; seen: string[]; counted: Record<string, number> }> {
    const { seen, up } = await recordingUpstream();
    const gw = await startInProcess(oneRoute(up.url, '2s'));
    const { text, open } = await rawConversation(gw.url, `GET /x HTTP/1.1\r\n${H}\r\n${post(`Transfer-Encoding: ${te}\r\n`, 'abc')}`);
    expect(open).toBe(false);
    const counted = Object.fromEntries(Object.entries(gw.status().badRequests).filter(([, n]) => n > 0));
    return { statuses: [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1])), last: JSON.parse(text.slice(text.lastIndexOf('\r\n\r\n') + 4)), seen, counted };
  }

  it('a final coding other than chunked pipelined behind a good request is 400 too, where llhttp finds it before the handler (501 until gateway-edges)', async () => {
    const r = await behindGoodRequest('gzip');
    expect(r.statuses).toEqual([200, 400]);
    expect(r.last).toMatchObject({ reason: 'bad_transfer_encoding', detail: expect.stringMatching(/final transfer coding is not chunked/) });
    expect(r.seen).toEqual(['GET /x']);
  });

  it('bytes after a pipelined request refused with Connection: close are neither processed nor answered (gateway-edges: a 400 followed)', async () => {
    const r = await behindGoodRequest('');
    expect(r.statuses).toEqual([200, 400]);
    expect(r.last).toMatchObject({ reason: 'bad_transfer_encoding' });
    expect(r.seen).toEqual(['GET /x']);
    expect(r.counted).toEqual({ bad_transfer_encoding: 1 });
  });

  it('bytes after a request that said Connection: close are neither processed nor answered', async () => {
    const { seen, up } = await recordingUpstream();
    const gw = await startInProcess(oneRoute(up.url, '2s'));
    const { text, open } = await rawConversation(gw.url, `GET /x HTTP/1.1\r\n${H}Connection: close\r\n\r\nGET /y HTTP/1.1\r\n${H}\r\n`);
    expect(open).toBe(false);
    expect([...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]))).toEqual([200]);
    expect(seen).toEqual(['GET /x']);
    expect(Object.values(gw.status().badRequests).every((n) => n === 0)).toBe(true);
  });

  it('pipelined 1, 2 saying Connection: close, 3: 1 and 2 are answered in order, then the close; 3 is never forwarded', async () => {
    // hostile-4: the bytes of 3 marked the connection answered, so 2 (parsed, waiting behind 1)
    // was dropped unanswered and the connection stayed open for ever.
    const { seen, up } = await recordingUpstream();
    const gw = await startInProcess(oneRoute(up.url, '2s'));
    const { text, open } = await rawConversation(gw.url, `GET /1 HTTP/1.1\r\n${H}\r\nGET /2 HTTP/1.1\r\n${H}Connection: close\r\n\r\nGET /3 HTTP/1.1\r\n${H}\r\n`, 3_000);
    expect(open).toBe(false);
    expect([...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]))).toEqual([200, 200]);
    expect(seen).toEqual(['GET /1', 'GET /2']);
  });

  it('a request cut short by a half-close is answered 400 (incomplete_request)', async () => {
    const { up } = await recordingUpstream();
    const gw = await startInProcess(oneRoute(up.url, '2s'));
    // The upstream may see the request begin (its headers were complete): it sees it cut, as when any client goes away mid-upload.
    const { text, open } = await rawConversation(gw.url, post('Content-Length: 5\r\n', 'ab'), 5_000, true);
    expect(open).toBe(false);
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(gw.status().badRequests.incomplete_request).toBe(1);
  });

  it('TRACE is forwarded on a route with allowTrace, and refused 405 elsewhere', async () => {
    const seen: string[] = [];
    const up = await upstream((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.end('ok');
    });
    const gw = await startInProcess(oneRoute(up.url, '2s', { routes: [{ path: '/debug', allowTrace: true }, { path: '/' }] }));
    expect((await rawExchange(gw.url, `TRACE /debug/x HTTP/1.1\r\n${H}Connection: close\r\n\r\n`)).status).toBe(200);
    expect((await rawExchange(gw.url, `TRACE /other HTTP/1.1\r\n${H}Connection: close\r\n\r\n`)).status).toBe(405);
    expect(seen).toEqual(['TRACE /debug/x']);
    expect(gw.status().badRequests.method_not_allowed).toBe(1);
  });
});

describe('a request line without a version (HTTP/0.9)', () => {
  it('is answered 505 when it arrives in pieces; a request line in pieces with its version is served', async () => {
    const { seen, up } = await recordingUpstream();
    const gw = await startInProcess(oneRoute(up.url, '2s'));
    const inPieces = async (pieces: readonly string[]): Promise<string> => {
      const { socket, text, closed } = rawSocket(gw.url);
      for (const p of pieces) {
        socket.write(p);
        await new Promise((r) => setTimeout(r, 20));
      }
      const t = setTimeout(() => socket.destroy(), 5_000);
      await closed;
      clearTimeout(t);
      return text();
    };
    expect(await inPieces(['G', 'ET /x', '\r', '\n'])).toMatch(/^HTTP\/1\.1 505 /);
    expect(await inPieces(['G', 'ET /x H', 'TTP/1.1\r', `\n${H}Connection: close\r\n\r\n`])).toMatch(/^HTTP\/1\.1 200 /);
    // Keep-alive after the first request line was judged: the second request on the connection is served too.
    expect(await inPieces([`GET /a HTTP/1.1\r\n${H}\r\n`, `GET /b HTTP/1.1\r\n${H}Connection: close\r\n\r\n`])).toMatch(/^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 200 /);
    expect(seen).toEqual(['GET /x', 'GET /a', 'GET /b']);
    expect(gw.status().badRequests.bad_version).toBe(1);
  });
});
