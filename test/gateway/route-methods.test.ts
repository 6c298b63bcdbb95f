// A route for GET takes HEAD too (hostile-11). Upstreams serve a HEAD with their GET handler
// (RFC 9110 section 9.3.2; Express, Django, Rails, Spring), so `HEAD /search` is the same work
// upstream as `GET /search` — but it went past a `methods: [GET]` route to the next one that
// matched, a catch-all with a looser policy or none: the GET route's limit escaped by a method.
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway, GatewayConfig } from '../../src/gateway/index.js';
import { cleanup, get, oneRoute, startInProcess, upstream } from './helpers.js';

afterEach(cleanup);

/** A gateway with `routes` to an upstream that notes each request it serves (`METHOD /path`). */
async function withRoutes(routes: NonNullable<GatewayConfig['routes']>): Promise<{ gw: Gateway; seen: string[] }> {
  const seen: string[] = [];
  const up = await upstream((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.end('ok');
  });
  return { gw: await startInProcess(oneRoute(up.url, '5s', { routes })), seen };
}

describe('route methods', () => {
  it('HEAD takes a GET route, its limit with it; a route for other methods stays theirs', async () => {
    const { gw, seen } = await withRoutes([
      { name: 'writes', path: '/search', methods: ['POST'], policy: { rateLimits: [{ rate: '2/min', burst: 2 }] } },
      { name: 'search', path: '/search', methods: ['GET'], policy: { rateLimits: [{ rate: '1/min', burst: 1 }] } },
      { name: 'rest', path: '/', exempt: true },
    ]);
    expect((await get(`${gw.url}/search?q=1`)).status).toBe(200);
    expect((await get(`${gw.url}/search?q=2`, { method: 'HEAD' })).status).toBe(429);
    expect((await get(`${gw.url}/search?q=3`)).status).toBe(429);
    // The POST route's own limit is untouched by the HEAD and the GETs; other paths go on to the catch-all.
    expect((await get(`${gw.url}/search`, { method: 'POST', body: 'x' })).status).toBe(200);
    expect((await get(`${gw.url}/other`, { method: 'HEAD' })).status).toBe(200);
    expect(seen).toEqual(['GET /search?q=1', 'POST /search', 'HEAD /other']);
  });

  it('a path whose routes take other methods is 405 with their methods as Allow, not 404 no_route (hostile-19); a path no route takes stays 404', async () => {
    const { gw, seen } = await withRoutes([
      { name: 'writes', path: '/api', methods: ['POST', 'DELETE'] },
      { name: 'reads', path: '/api', methods: ['GET'], caseInsensitive: true },
    ]);
    for (const [method, path] of [['PUT', '/api/x'], ['OPTIONS', '/api'], ['PATCH', '/API/x']] as const) {
      const r = await get(`${gw.url}${path}`, { method, headers: { connection: 'keep-alive' }, ...(method === 'OPTIONS' ? {} : { body: 'x' }) });
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.headers.allow, `${method} ${path}`).toBe(path === '/API/x' ? 'GET, HEAD' : 'GET, HEAD, POST, DELETE');
      expect(JSON.parse(r.body), `${method} ${path}`).toMatchObject({ reason: 'method_not_allowed', detail: expect.stringContaining(`No route takes ${method} on this path`) });
      // A method no route takes is an answer about the routes, as a 404 is, not a malformed request: the connection is
      // kept (a browser's CORS preflight, OPTIONS, is followed by its request on the same connection) and no bad request counted.
      if (method === 'OPTIONS') expect(r.headers.connection, `${method} ${path}`).toBe('keep-alive');
    }
    expect(Object.values(gw.status().badRequests).every((n) => n === 0)).toBe(true);
    expect((await get(`${gw.url}/other`)).status).toBe(404);
    expect((await get(`${gw.url}/api/x`, { method: 'DELETE' })).status).toBe(200);
    expect(seen).toEqual(['DELETE /api/x']);
  });

  it('a route for a method beyond the common ones (PURGE) is named in the 405 and its Allow, not left out of them', async () => {
    const { gw } = await withRoutes([
      { name: 'purge', path: '/cache', methods: ['PURGE'] },
      { name: 'reads', path: '/cache', methods: ['GET'] },
    ]);
    const r = await get(`${gw.url}/cache/x`, { method: 'DELETE' });
    expect({ status: r.status, allow: r.headers.allow, detail: (JSON.parse(r.body) as { detail: string }).detail }).toEqual({
      status: 405,
      allow: 'GET, HEAD, PURGE',
      detail: 'No route takes DELETE on this path; its routes take GET, HEAD, PURGE.',
    });
    const only = await withRoutes([{ name: 'purge', path: '/only', methods: ['PURGE'] }]);
    const o = await get(`${only.gw.url}/only`);
    expect({ status: o.status, allow: o.headers.allow }).toEqual({ status: 405, allow: 'PURGE' });
  });
});
