// A request head the gateway accepts (within server.maxHeaderSize, 16 kB) that a default
// node:http upstream (16 kB too) refuses once the gateway has added its forwarding headers: the
// upstream answers 431 with no body. The client is told why, in problem+json (hostile pass:
// it got the upstream's bare 431).
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawExchange } from './raw-client.js';

afterEach(cleanup);

describe('a head the upstream finds too large', () => {
  it('is answered 431 with a reason naming the cause, and a head that fits still goes through', async () => {
    let reached = 0;
    const up = await upstream((_req, res) => {
      reached++;
      res.end('ok');
    });
    const gw = await startInProcess(oneRoute(up.url, '2s'));
    const head = (size: number): string => {
      const start = 'GET /x HTTP/1.1\r\nHost: gw\r\nConnection: close\r\nX-Pad: ';
      return `${start}${'a'.repeat(size - start.length - 4)}\r\n\r\n`;
    };
    const fits = await rawExchange(gw.url, head(15_000));
    expect(fits.status).toBe(200);
    expect(reached).toBe(1);
    // 16,300 bytes: within the gateway's 16,384, over the upstream's with X-Forwarded-For/-Proto/-Host and Forwarded.
    const over = await rawExchange(gw.url, head(16_300));
    expect(over.status).toBe(431);
    expect(over.head.toLowerCase()).toContain('content-type: application/problem+json');
    const p = JSON.parse(over.body) as { status: number; reason: string; detail: string };
    expect(p).toMatchObject({ status: 431, reason: 'upstream_header_too_large' });
    expect(p.detail).toContain('16300 bytes');
    expect(p.detail).toContain('X-Forwarded-For');
    expect(reached).toBe(1);
  });
});
