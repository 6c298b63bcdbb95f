// red21: a `caseInsensitive` route matched regardless of ASCII case only, but upstreams that match
// regardless of case equate some letters beyond ASCII with ASCII ones: Python's re.IGNORECASE takes
// `ı` (dotless i, U+0131) and `İ` (U+0130) for `i` (its docs name them, with `ſ` and the Kelvin
// sign), so do Java's equalsIgnoreCase and Spring's case-insensitive PathPattern; and an upstream
// that compares `toUpperCase()` forms (JavaScript, Python, Java strings) reads `ß` as `SS`. So
// `/apı/x` and `/aßets` were the /api and /assets handlers upstream while they took the catch-all
// route here, around the limits of their own. Now they take the route their case folding names.
import { afterEach, describe, expect, it } from 'vitest';
import { caseFolded } from '../../src/gateway/canonical-case.js';
import { cleanup, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawExchange, rawGet } from './raw-client.js';

afterEach(cleanup);

/** Spellings of /api/... and /assets/... under Unicode case folding. */
const FOLDED_FORMS = ['/ap%C4%B1/x', '/AP%C4%B0/x', '/%C4%B0', '/a%C3%9Fets', '/A%C3%9FETS/x', '/as%C5%BFets/x'];

describe('case-insensitive routes and letters beyond ASCII (red21)', () => {
  it('a letter that Unicode case folding makes an ASCII one takes the route that letter names', async () => {
    const seen: string[] = [];
    const up = await upstream((req, res) => {
      seen.push(req.url ?? '');
      res.end('ok');
    });
    const gw = await startInProcess({
      ...oneRoute(up.url, '5s'),
      policies: { api: { rateLimits: [{ rate: '1/min', burst: 1 }] } },
      routes: [
        { name: 'api', path: '/api', caseInsensitive: true, policy: 'api' },
        { name: 'i', path: '/i', caseInsensitive: true, policy: 'api' },
        { name: 'assets', path: '/assets', caseInsensitive: true, policy: 'api' },
        { name: 'rest', path: '/' },
      ],
    });
    expect((await rawExchange(gw.url, rawGet('/api/x'))).status).toBe(200);
    // The policy's one request a minute is spent: each folded spelling is limited with it, none forwarded.
    for (const target of FOLDED_FORMS) expect((await rawExchange(gw.url, rawGet(target))).status, target).toBe(429);
    // Letters that fold to no ASCII one, or not on a segment boundary, stay on the catch-all.
    for (const target of ['/caf%C3%A9', '/ap%C4%B1x', '/%C3%9F']) expect((await rawExchange(gw.url, rawGet(target))).status, target).toBe(200);
    expect(seen).toEqual(['/api/x', '/caf%C3%A9', '/ap%C4%B1x', '/%C3%9F']);
  });

  it('the fold: ASCII lowered, letters beyond it folded and re-encoded, escapes of ASCII kept', () => {
    expect(caseFolded('/API/%3B')).toBe('/api/%3b');
    expect(caseFolded('/ap%C4%B1/%C4%B0')).toBe('/api/i');
    expect(caseFolded('/a%C3%9F/%C5%BF/%E2%84%AA/%EF%AC%81')).toBe('/ass/s/k/fi');
    // Letters that fold to no ASCII one fold in their own script: É is é, and stays encoded.
    expect(caseFolded('/CAF%C3%89')).toBe('/caf%c3%a9');
    expect(caseFolded('/caf%C3%A9')).toBe('/caf%c3%a9');
  });
});
