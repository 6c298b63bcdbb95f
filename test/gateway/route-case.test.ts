// Route paths are case-sensitive (RFC 3986), so in front of an upstream that matches paths
// regardless of case (Express's default, ASP.NET, IIS) `/API/x` reached the `/api` handler
// upstream while it took another route here — its policy escaped. A route with
// `caseInsensitive: true` matches its path regardless of ASCII case; the upstream still gets
// the path as the client wrote it (canonical).
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, oneRoute, startInProcess, upstream } from './helpers.js';

afterEach(cleanup);

describe('route path case', () => {
  it('caseInsensitive: /API/x and /Api/x take the /api route and its limit; /apix does not', async () => {
    const seen: string[] = [];
    const up = await upstream((req, res) => {
      seen.push(req.url ?? '');
      res.end('ok');
    });
    const gw = await startInProcess(
      oneRoute(up.url, '5s', {
        routes: [
          { name: 'api', path: '/api', caseInsensitive: true, policy: { rateLimits: [{ rate: '1/min', burst: 1 }] } },
          { name: 'rest', path: '/' },
        ],
      }),
    );
    expect((await get(`${gw.url}/api/x`)).status).toBe(200);
    expect((await get(`${gw.url}/API/x`)).status).toBe(429);
    expect((await get(`${gw.url}/Api`)).status).toBe(429);
    expect((await get(`${gw.url}/%41PI/x`)).status).toBe(429);
    expect((await get(`${gw.url}/apix`)).status).toBe(200);
    expect(seen).toEqual(['/api/x', '/apix']);
  });

  it('by default a route is case-sensitive: /API/x is not /api', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess(oneRoute(up.url, '5s', { routes: [{ path: '/api', policy: { rateLimits: [{ rate: '1/min', burst: 1 }] } }] }));
    expect((await get(`${gw.url}/api/x`)).status).toBe(200);
    expect((await get(`${gw.url}/API/x`)).status).toBe(404);
  });
});
