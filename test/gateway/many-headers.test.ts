// More header lines than node:http keeps by default (2,000): a Content-Length or a second
// Host after them must still be seen (hostile finding F5), within maxHeaderSize.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawExchange } from './raw-client.js';

afterEach(cleanup);

describe('many header lines', () => {
  it('a body declared after 2,001 header lines reaches the upstream whole; a second Host there is refused', async () => {
    const bodies: string[] = [];
    const up = await upstream((req, res) => {
      let b = '';
      req.setEncoding('utf8').on('data', (d: string) => (b += d));
      req.on('end', () => {
        bodies.push(b);
        res.end('ok');
      });
    });
    const gw = await startInProcess(oneRoute(up.url, '2s', { server: { maxHeaderSize: '64kb' } }));
    const filler = 'X: a\r\n'.repeat(2_001);
    const post = await rawExchange(gw.url, `POST /x HTTP/1.1\r\nHost: gw\r\n${filler}Content-Length: 5\r\nConnection: close\r\n\r\nhello`);
    expect(post.status).toBe(200);
    expect(bodies).toEqual(['hello']);
    const twoHosts = await rawExchange(gw.url, `GET /x HTTP/1.1\r\nHost: gw\r\n${filler}Host: other\r\nConnection: close\r\n\r\n`);
    expect(twoHosts.status).toBe(400);
    expect(bodies).toHaveLength(1);
  });
});
