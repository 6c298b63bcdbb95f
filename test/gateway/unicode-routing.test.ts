// A route's policy must not be escaped by spelling its path in compatibility characters
// (hostile-15): `/%EF%BD%81pi/x` (a fullwidth `a`) or `/ap%E2%85%B0/x` (the roman numeral
// `ⅰ`) is `/api/x` to an upstream that applies Unicode compatibility normalization (NFKC:
// Python's unicodedata, IIS's best fit), as canonical-path.ts has it for dot segments and
// slashes. The gateway took the catch-all route for them, around /api's limit. In process, on
// loopback, an upstream that normalises as such upstreams do.
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawExchange, rawGet } from './raw-client.js';

afterEach(cleanup);

/** Targets NFKC makes /api/x of (the route /api), or /API/x (a case-insensitive route's). */
const API_FORMS = ['/%EF%BD%81pi/x', '/%EF%BD%81%EF%BD%90%EF%BD%89/x', '/ap%E2%85%B0/x', '/a%EF%BD%90i'];
/**
 * Targets NFKC makes a form of /api/x that other upstreams read as /api/x: a trailing dot or
 * space (a fullwidth full stop, an ideographic space: IIS, which also maps best fit, drops
 * them) and a segment parameter (a fullwidth semicolon: servlet containers drop it).
 */
const COMPOUND_FORMS = ['/api%EF%BC%8E/x', '/api%E3%80%80/x', '/api%EF%BC%9Bv=1/x'];

describe('paths in compatibility characters', () => {
  it('that NFKC makes another route of are refused 400 ambiguous_unicode, never forwarded; those it leaves on their route pass', async () => {
    const seen: string[] = [];
    const up = await upstream((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).normalize('NFKC');
      seen.push(path);
      res.end(path);
    });
    const gw = await startInProcess({
      ...oneRoute(up.url, '5s'),
      policies: { api: { rateLimits: [{ rate: '1/min', burst: 1 }] } },
      routes: [
        { name: 'api', path: '/api', policy: 'api' },
        { name: 'admin', path: '/admin', caseInsensitive: true, policy: 'api' },
        { name: 'rest', path: '/' },
      ],
    });
    expect((await rawExchange(gw.url, rawGet('/api/x'))).status).toBe(200);
    // /api's one request a minute is spent: every spelling of it is refused, none reaches the upstream as /api.
    expect((await rawExchange(gw.url, rawGet('/api/x'))).status).toBe(429);
    for (const target of [...API_FORMS, ...COMPOUND_FORMS, '/%EF%BC%A1DMIN/x', '/%EF%BD%81dmin']) {
      const a = await rawExchange(gw.url, rawGet(target));
      expect(a.status, target).toBe(400);
      expect(JSON.parse(a.body)).toMatchObject({ reason: 'ambiguous_unicode' });
      expect(a.head).toMatch(/\r\nconnection: close/i);
    }
    // NFKC leaves these on the route they take here (rest; api for the last): served, or limited with /api.
    for (const [target, status] of [
      ['/caf%C3%A9', 200],
      ['/%EF%BD%81bc', 200],
      ['/%EF%BC%A1PI/x', 200],
      ['/api/%EF%BD%98', 429],
    ] as const) {
      expect((await rawExchange(gw.url, rawGet(target))).status, target).toBe(status);
    }
    expect(seen).toEqual(['/api/x', '/café', '/abc', '/API/x']);
    const bad = gw.status().badRequests;
    expect(bad['ambiguous_unicode']).toBe(API_FORMS.length + COMPOUND_FORMS.length + 2);
  });
});
