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
    expect(JSON.parse(dup.body)).toEqual({ type: 'about:blank', title: 'Bad Request', status: 400, reason: 'duplicate_identity_header', detail: 'The x-api-key header (which this route limits requests by) is sent 2 times, and which one identifies the request is ambiguous: send it once.' });
    // F3: a fresh key named hop-by-hop: limited under it here, keyless at the upstream.
    const hop = await rawExchange(gw.url, `GET /x HTTP/1.1\r\nHost: gw\r\nX-Api-Key: fresh-2\r\nConnection: close, x-api-key\r\n\r\n`);
    expect(hop.status).toBe(400);
    expect(JSON.parse(hop.body)).toMatchObject({ reason: 'hop_by_hop_identity_header', detail: 'The x-api-key header (which this route limits requests by) is named in Connection, so it would not reach the upstream, which must see what the request is limited by: do not list it there.' });
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
    expect(JSON.parse(twin.body)).toMatchObject({
      reason: 'duplicate_identity_header',
      detail: 'The x-api-key header (which this route limits requests by) is sent 2 times (counting X_Api_Key, which upstreams that read headers CGI-style take for x-api-key), and which one identifies the request is ambiguous: send it once.',
    });
    // One copy holding a list: what two copies joined look like; an upstream taking the first item sees the spent key.
    const list = await rawExchange(gw.url, req(`X-Api-Key: spent, fresh-2\r\n`));
    expect(list.status).toBe(400);
    expect(JSON.parse(list.body)).toMatchObject({ reason: 'duplicate_identity_header', detail: 'The x-api-key header (which this route limits requests by) holds a list (a comma), and which item identifies the request is ambiguous: send one value.' });
    expect(seen).toEqual(['spent']);
    expect(gw.status().badRequests.duplicate_identity_header).toBe(2);
  });

  it('nor by the underscore twin alone: keyless here, the spent key to a CGI-style upstream (hostile-3 H6)', async () => {
    const seen: string[] = [];
    const up = await upstream((r, res) => {
      seen.push(`${String(r.headers['x-api-key'])} ${String(r.headers['x_api_key'])}`);
      res.end('ok');
    });
    const gw = await startInProcess(
      oneRoute(up.url, '2s', { policies: { api: { tenant: { header: 'x-api-key' }, rateLimits: [{ rate: '1/h', burst: 1 }] } }, routes: [{ path: '/', policy: 'api' }] }),
    );
    expect((await rawExchange(gw.url, req('X-Api-Key: spent\r\n'))).status).toBe(200);
    expect((await rawExchange(gw.url, req('X-Api-Key: spent\r\n'))).status).toBe(429);
    // Without a key the request is limited per address (a bucket of its own); Rack, PHP and WSGI would read the spent key.
    for (const name of ['X_Api_Key', 'x_api-key', 'X-API_KEY']) {
      const twin = await rawExchange(gw.url, req(`${name}: spent\r\n`));
      expect(twin.status, name).toBe(400);
      expect(JSON.parse(twin.body)).toMatchObject({
        reason: 'underscore_identity_header',
        detail: `The x-api-key header (which this route limits requests by) is sent as ${name}, which upstreams that read headers CGI-style take for x-api-key but this gateway does not: send it as x-api-key.`,
      });
    }
    expect(seen).toEqual(['spent undefined']);
    expect(gw.status().badRequests.underscore_identity_header).toBe(3);
    // A request with no key at all is still limited per address, and served.
    expect((await rawExchange(gw.url, req(''))).status).toBe(200);
  });

  it('what Connection names is read one way by the check and by the forwarding: OWS around the name refused, a no-break space another name that hides nothing', async () => {
    // header-lists.ts (session 18): both took String.prototype.trim's whitespace off before; now both take SP and HTAB only.
    const seen: string[] = [];
    const up = await upstream((r, res) => {
      seen.push(String(r.headers['x-api-key']));
      res.end('ok');
    });
    const gw = await startInProcess(oneRoute(up.url, '2s', { policies: { api: { tenant: { header: 'x-api-key' } } }, routes: [{ path: '/', policy: 'api' }] }));
    const named = await rawExchange(gw.url, `GET /x HTTP/1.1\r\nHost: gw\r\nX-Api-Key: k1\r\nConnection: close,\t X-API-KEY \t\r\n\r\n`);
    expect([named.status, JSON.parse(named.body).reason]).toEqual([400, 'hop_by_hop_identity_header']);
    const other = await rawExchange(gw.url, `GET /x HTTP/1.1\r\nHost: gw\r\nX-Api-Key: k2\r\nConnection: close, x-api-key\xa0\r\n\r\n`);
    expect(other.status).toBe(200);
    expect(seen).toEqual(['k2']);
  });
});
