// red21: a spent API key padded with a no-break space (0xA0) was a fresh key to the gateway —
// a bucket of its own, full — and the spent key to an upstream that trims it (JavaScript's
// String.prototype.trim, Python's str.strip: both take a no-break space off; Python's takes NEL,
// 0x85, too). Any number of paddings, any number of fresh buckets for one key. A policy's identity
// headers must carry ASCII alone: bytes beyond it (obs-text, RFC 9110 section 5.5) are refused
// 400 before admission, nothing charged and nothing forwarded.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawExchange } from './raw-client.js';

afterEach(cleanup);

const req = (headers: string): string => `GET /x HTTP/1.1\r\nHost: gw\r\n${headers}Connection: close\r\n\r\n`;

describe('identity header bytes (red21)', () => {
  it('a spent key padded with bytes beyond ASCII is refused, not a fresh bucket for the same key upstream', async () => {
    const seen: string[] = [];
    const up = await upstream((r, res) => {
      seen.push(String(r.headers['x-api-key']));
      res.end('ok');
    });
    const gw = await startInProcess(
      oneRoute(up.url, '2s', {
        policies: { api: { tenant: { header: 'x-api-key' }, criticalityHeader: 'x-criticality', rateLimits: [{ rate: '1/h', burst: 1 }] } },
        routes: [{ path: '/', policy: 'api' }],
      }),
    );
    expect((await rawExchange(gw.url, req('X-Api-Key: spent\r\n'))).status).toBe(200);
    expect((await rawExchange(gw.url, req('X-Api-Key: spent\r\n'))).status).toBe(429);
    // latin1 strings: one character, one byte on the wire.
    const padded = ['spent\xa0', '\xa0spent', 'spent\xa0\xa0', 'spent\x85', 'sp\xe9nt'];
    for (const key of padded) {
      const a = await rawExchange(gw.url, req(`X-Api-Key: ${key}\r\n`));
      expect(a.status, JSON.stringify(key)).toBe(400);
      expect(JSON.parse(a.body)).toEqual({
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        reason: 'bad_identity_header',
        detail:
          'The x-api-key header (which this route limits requests by) has bytes beyond ASCII, which upstreams read in different ways (a no-break space is trimmed off by some, kept by others), so the key it names is ambiguous: send it in ASCII.',
      });
    }
    // The criticality header too: a policy reads both to tell who a request is.
    const crit = await rawExchange(gw.url, req('X-Api-Key: other\r\nX-Criticality: sheddable\xa0\r\n'));
    expect(crit.status).toBe(400);
    expect(JSON.parse(crit.body)).toMatchObject({ reason: 'bad_identity_header' });
    expect(seen).toEqual(['spent']);
    expect(gw.status().badRequests.bad_identity_header).toBe(padded.length + 1);
    // Nothing was charged: a plain key, and a header of another name with such bytes, are served.
    expect((await rawExchange(gw.url, req('X-Api-Key: other\r\nX-Note: caf\xe9\r\n'))).status).toBe(200);
    expect(seen).toEqual(['spent', 'other']);
  });
});
