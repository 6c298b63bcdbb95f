// The tenant header must mean the same to the gateway and the upstream (hostile findings F2,
// F3): twice, or named in Connection, it is refused 400 before admission — no key is charged
// and nothing is forwarded — while a single, plain key is limited as before.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawExchange } from './raw-client.js';

afterEach(cleanup);

const req = (headers: string): string => `GET /x HTTP/1.1\r\nHost: gw\r\n${headers}Connection: close\r\n\r\n`;

describe('identity headers', () => {
  it('a spent key cannot be refreshed by a second copy, nor hidden from the upstream by Connection', async () => {
    const seen: string[] = [];
    const up = await upstream((r, res) => {
      seen.push(String(r.headers['x-api-key']));
      res.end('ok');
    });
    const gw = await startInProcess(
      oneRoute(up.url, '2s', { policies: { api: { tenant: { header: 'x-api-key' }, rateLimits: [{ rate: '1/h', burst: 2 }] } }, routes: [{ path: '/', policy: 'api' }] }),
    );
    const statuses = async (headers: string, n: number): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await rawExchange(gw.url, req(headers))).status);
      return out;
    };
    expect(await statuses('X-Api-Key: spent\r\n', 3)).toEqual([200, 200, 429]);
    // F2: the spent key plus a fresh one: node:http would have joined them into a new key.
    const dup = await rawExchange(gw.url, req(`X-Api-Key: spent\r\nx-api-key: fresh-${Date.now()}\r\n`));
    expect(dup.status).toBe(400);
    expect(JSON.parse(dup.body)).toMatchObject({ detail: expect.stringMatching(/x-api-key header appears 2 times/) });
    // F3: a fresh key named hop-by-hop: limited under it here, keyless at the upstream.
    const hop = await rawExchange(gw.url, `GET /x HTTP/1.1\r\nHost: gw\r\nX-Api-Key: fresh-2\r\nConnection: close, x-api-key\r\n\r\n`);
    expect(hop.status).toBe(400);
    expect(seen).toEqual(['spent', 'spent']);
    const counted = gw.status().badRequests;
    expect(counted.duplicate_identity_header).toBe(1);
    expect(counted.hop_by_hop_identity_header).toBe(1);
    // A different key, sent once, is served: the refusals charged nobody.
    expect(await statuses('X-Api-Key: other\r\n', 1)).toEqual([200]);
  });

  it('nor by an underscore twin (X_Api_Key, one header to a CGI-style upstream) or a list in one copy', async () => {
    const seen: string[] = [];
    const up = await upstream((r, res) => {
      seen.push(String(r.headers['x-api-key']));
      res.end('ok');
    });
    const gw = await startInProcess(
      oneRoute(up.url, '2s', { policies: { api: { tenant: { header: 'x-api-key' }, rateLimits: [{ rate: '1/h', burst: 1 }] } }, routes: [{ path: '/', policy: 'api' }] }),
    );
    expect((await rawExchange(gw.url, req('X-Api-Key: spent\r\n'))).status).toBe(200);
    // Rack, PHP and WSGI read X_Api_Key as X-Api-Key: limited here under a fresh key, authenticated there as the spent one.
    const twin = await rawExchange(gw.url, req(`X-Api-Key: fresh-1\r\nX_Api_Key: spent\r\n`));
    expect(twin.status).toBe(400);
    expect(JSON.parse(twin.body)).toMatchObject({ detail: expect.stringMatching(/x-api-key header appears 2 times/) });
    // One copy holding a list: what two copies joined look like; an upstream taking the first item sees the spent key.
    const list = await rawExchange(gw.url, req(`X-Api-Key: spent, fresh-2\r\n`));
    expect(list.status).toBe(400);
    expect(JSON.parse(list.body)).toMatchObject({ detail: expect.stringMatching(/list/) });
    expect(seen).toEqual(['spent']);
    expect(gw.status().badRequests.duplicate_identity_header).toBe(2);
  });
});
