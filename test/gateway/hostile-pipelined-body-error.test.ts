// red21: a body that breaks the parser (a bad chunk) in a request pipelined behind others that
// wait their turn was answered 400 right after the response in flight: the requests between were
// never served nor answered, and the client, which matches answers to requests by their order
// (RFC 9112 section 9.3.2), took the 400 for its second request. 16 GETs and a POST with a bad chunk
// behind them: 1 answer of 200, then the 400. Now each request before it is served in turn, and the
// 400 takes the broken request's own place; then the connection closes.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawConversation } from './raw-client.js';

afterEach(cleanup);

describe('a body that breaks the parser behind pipelined requests (red21)', () => {
  it('is answered 400 in its own turn, after every request before it is served', async () => {
    const seen: string[] = [];
    const up = await upstream((req, res) => {
      seen.push(req.url ?? '');
      // Slow enough that the rest of the pipeline is parsed while the first is served.
      setTimeout(() => res.end(`ok ${req.url ?? ''}`), 20);
    });
    const gw = await startInProcess(oneRoute(up.url, '5s'));
    for (const n of [1, 5, 16, 20]) {
      seen.length = 0;
      const gets = Array.from({ length: n }, (_, i) => `GET /g${i} HTTP/1.1\r\nHost: gw\r\n\r\n`).join('');
      const bad = 'POST /bad HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n';
      const after = 'GET /after HTTP/1.1\r\nHost: gw\r\n\r\n';
      const { text, open } = await rawConversation(gw.url, gets + bad + after, 10_000);
      expect(open, `${n}`).toBe(false);
      const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
      expect(statuses, `${n} GETs`).toEqual([...Array.from({ length: n }, () => 200), 400]);
      const bodies = [...text.matchAll(/ok (\/g\d+)/g)].map((m) => m[1]);
      expect(bodies).toEqual(Array.from({ length: n }, (_, i) => `/g${i}`));
      expect(text).toContain('"reason":"bad_chunk"');
      expect(seen).toEqual(Array.from({ length: n }, (_, i) => `/g${i}`));
    }
    expect(gw.status().badRequests.bad_chunk).toBe(4);
  });
});
