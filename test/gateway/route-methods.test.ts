// A route for GET takes HEAD too (hostile-11). Upstreams serve a HEAD with their GET handler
// (RFC 9110 section 9.3.2; Express, Django, Rails, Spring), so `HEAD /search` is the same work
// upstream as `GET /search` — but it went past a `methods: [GET]` route to the next one that
// matched, a catch-all with a looser policy or none: the GET route's limit escaped by a method.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, oneRoute, startInProcess, upstream } from './helpers.js';

afterEach(cleanup);

describe('route methods', () => {
  it('HEAD takes a GET route, its limit with it; a route for other methods stays theirs', async () => {
    const seen: string[] = [];
    const up = await upstream((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.end('ok');
    });
    const gw = await startInProcess(
      oneRoute(up.url, '5s', {
        routes: [
          { name: 'writes', path: '/search', methods: ['POST'], policy: { rateLimits: [{ rate: '2/min', burst: 2 }] } },
          { name: 'search', path: '/search', methods: ['GET'], policy: { rateLimits: [{ rate: '1/min', burst: 1 }] } },
          { name: 'rest', path: '/', exempt: true },
        ],
      }),
    );
    expect((await get(`${gw.url}/search?q=1`)).status).toBe(200);
    expect((await get(`${gw.url}/search?q=2`, { method: 'HEAD' })).status).toBe(429);
    expect((await get(`${gw.url}/search?q=3`)).status).toBe(429);
    // The POST route's own limit is untouched by the HEAD and the GETs; other paths go on to the catch-all.
    expect((await get(`${gw.url}/search`, { method: 'POST', body: 'x' })).status).toBe(200);
    expect((await get(`${gw.url}/other`, { method: 'HEAD' })).status).toBe(200);
    expect(seen).toEqual(['GET /search?q=1', 'POST /search', 'HEAD /other']);
  });
});
