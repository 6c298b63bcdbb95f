// A chunked request's trailer fields (RFC 9112 section 7.1.2) are dropped: the gateway reads a
// body whole and sends it upstream with Content-Length, a framing with no trailer section, and
// a recipient that removes the chunked coding may discard them. The body and its headers go
// on; no trailer field becomes a header (RFC 9110 section 6.5.1 forbids merging them blindly).
// The trailer section is bounded by server.maxHeaderSize, and a larger one is 431 naming the
// trailer fields, not the headers (hostile-16: 'The request headers are larger...').
import type { IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawExchange } from './raw-client.js';

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

const chunked = (trailer: string): string => `POST /x HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n${trailer}\r\n`;

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
