// A chunked request's trailer fields (RFC 9112 section 7.1.2) are dropped: the gateway reads a
// body whole and sends it upstream with Content-Length, a framing with no trailer section, and
// a recipient that removes the chunked coding may discard them. The body and its headers go
// on; no trailer field becomes a header (RFC 9110 section 6.5.1 forbids merging them blindly).
// The trailer section is bounded by server.maxHeaderSize, and a larger one is 431 naming the
// trailer fields, not the headers (hostile-16: 'The request headers are larger...'). A
// Connection: close among them ends the connection after the answer (hostile-17).
import type { IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawConversation, rawExchange, rawSocket } from './raw-client.js';

afterEach(cleanup);

interface Seen { headers: IncomingHttpHeaders; trailers: Record<string, string | undefined>; body: string }

async function gateway(): Promise<{ url: string; seen: Seen[]; badRequests: () => Record<string, number> }> {
  const seen: Seen[] = [];
  const up = await upstream((req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({ headers: req.headers, trailers: req.trailers, body });
      res.end('ok');
    });
  });
  const gw = await startInProcess(oneRoute(up.url, '5s', { server: { maxHeaderSize: '16kb' } }));
  return { url: gw.url, seen, badRequests: () => gw.status().badRequests as unknown as Record<string, number> };
}

const chunked = (trailer: string, connection = 'Connection: close\r\n'): string =>
  `POST /x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n${connection}\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n${trailer}\r\n`;
/** A chunked POST whose head keeps the connection alive, with `trailer` as its trailer section. */
const keptAlive = (trailer: string): string => chunked(trailer, '');

describe('request trailers', () => {
  it('are dropped: the body goes upstream with its Content-Length, no trailer field as a header or a trailer', async () => {
    const gw = await gateway();
    const r = await rawExchange(gw.url, chunked('X-Sum: sha256=abc\r\nX-Forwarded-For: 6.6.6.6\r\n'));
    expect([r.status, r.body]).toEqual([200, 'ok']);
    expect(gw.seen).toHaveLength(1);
    const s = gw.seen[0]!;
    expect(s.body).toBe('hello world');
    expect(s.headers['content-length']).toBe('11');
    expect(s.trailers).toEqual({});
    expect(s.headers['x-sum']).toBeUndefined();
    expect(s.headers.trailer).toBeUndefined();
    expect(s.headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('Connection: close among them closes the connection after the answer, which says so: the parser reads nothing after it (hostile-17)', async () => {
    // Before, the answer said keep-alive and a request sent behind it went unanswered: llhttp takes
    // the trailer's close and refuses what follows (HPE_CLOSED_CONNECTION); node:http had judged the
    // connection at the head. Pipelined, the connection then stayed open until the keep-alive timeout.
    const gw = await gateway();
    const post = keptAlive('Connection: close\r\n');
    const piped = await rawConversation(gw.url, `${post}GET /after HTTP/1.1\r\nHost: gw\r\n\r\n`, 4_000);
    expect(piped.open).toBe(false);
    expect(piped.text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(piped.text).toMatch(/\r\nConnection: close\r\n/i);
    expect(piped.text).not.toMatch(/keep-alive/i);
    // The next request written once the answer has come: the answer said close, and the connection is.
    const c = rawSocket(gw.url);
    c.socket.write(post);
    await expect.poll(() => c.text(), { timeout: 20_000 }).toMatch(/\r\n\r\nok$/);
    expect(c.text()).toMatch(/\r\nConnection: close\r\n/i);
    await c.closed;
    expect(gw.seen.map((x) => x.body)).toEqual(['hello world', 'hello world']);
  });

  it('a Connection field listing close among other tokens, in any case, or Proxy-Connection: close, closes too; keep-alive or another token keeps it open', async () => {
    const gw = await gateway();
    for (const trailer of ['connection: Foo ,  CLOSE\r\n', 'Proxy-Connection: close\r\n']) {
      const listed = await rawConversation(gw.url, `${keptAlive(trailer)}GET /after HTTP/1.1\r\nHost: gw\r\n\r\n`, 4_000);
      expect([trailer, listed.open, /\r\nConnection: close\r\n/i.test(listed.text)]).toEqual([trailer, false, true]);
    }
    const kept = await rawConversation(gw.url, `${keptAlive('Connection: keep-alive, closed\r\n')}GET /after HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n`, 4_000);
    expect(kept.open).toBe(false);
    expect(kept.text.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
  });

  it('close followed by a no-break space (0xA0, no OWS) is another token, as llhttp reads it: the request behind is answered', async () => {
    // Until session 18 the gateway trimmed it to close (String.prototype.trim strips 0xA0) and closed
    // after the first answer, while the parser, seeing no close, had read the second request: never answered.
    const gw = await gateway();
    const kept = await rawConversation(gw.url, `${keptAlive('Connection: close\xa0\r\n')}GET /after HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n`, 4_000);
    expect(kept.open).toBe(false);
    expect(kept.text.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
  });

  it('a Content-Length or Transfer-Encoding among them is 400 saying it is a trailer field, not that the head has both (hostile-17)', async () => {
    const gw = await gateway();
    const trailer = 'A trailer field after the chunked request body is Content-Length or Transfer-Encoding, which frame a message and cannot be trailer fields (RFC 9110 section 6.5.1).';
    const cl = await rawExchange(gw.url, chunked('Content-Length: 11\r\n'));
    expect([cl.status, JSON.parse(cl.body)]).toEqual([400, expect.objectContaining({ reason: 'content_length_and_transfer_encoding', detail: trailer })]);
    const te = await rawExchange(gw.url, chunked('Transfer-Encoding: chunked\r\n'));
    expect([te.status, JSON.parse(te.body)]).toEqual([400, expect.objectContaining({ reason: 'bad_transfer_encoding', detail: trailer })]);
    expect(gw.seen).toEqual([]);
    // In the head they are what they were.
    const head = await rawExchange(gw.url, 'POST /x HTTP/1.1\r\nHost: gw\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    expect(JSON.parse(head.body)).toMatchObject({ reason: 'content_length_and_transfer_encoding', detail: 'The request has both Content-Length and Transfer-Encoding.' });
  });

  it('over server.maxHeaderSize are 431 headers_too_large naming the trailer fields; nothing goes upstream', async () => {
    const gw = await gateway();
    let big = '';
    for (let i = 0; big.length < 40_000; i++) big += `X-T${i}: aa\r\n`;
    const r = await rawExchange(gw.url, chunked(big));
    expect(r.status).toBe(431);
    expect(JSON.parse(r.body)).toMatchObject({ reason: 'headers_too_large', detail: 'The trailer fields after the chunked request body are larger than this gateway accepts (16384 bytes, server.maxHeaderSize).' });
    expect(gw.seen).toEqual([]);
    expect(gw.badRequests().headers_too_large).toBe(1);
  });
});
