// Max-Forwards and Via (RFC 9110 sections 7.6.2, 7.6.3; hostile-16). An OPTIONS with
// Max-Forwards: 0 was forwarded upstream as it came, a greater one forwarded undecremented, and
// no request upstream carried Via. Now the gateway answers OPTIONS (and an allowed TRACE) at 0
// itself, forwards one less above 0, refuses a malformed one on those methods, and adds
// `Via: <client's version> sluice` to every request it forwards.
import type { IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, oneRoute, startInProcess, upstream } from './helpers.js';
import { rawExchange } from './raw-client.js';

afterEach(cleanup);

async function gateway(): Promise<{ url: string; seen: { method: string; headers: IncomingHttpHeaders }[] }> {
  const seen: { method: string; headers: IncomingHttpHeaders }[] = [];
  const up = await upstream((req, res) => {
    seen.push({ method: req.method ?? '', headers: req.headers });
    res.end('upstream');
  });
  const gw = await startInProcess(oneRoute(up.url, '5s', { routes: [{ path: '/traced', allowTrace: true }, { path: '/get', methods: ['GET'] }, { path: '/' }] }));
  return { url: gw.url, seen };
}

const ask = (method: string, path: string, headers = '', version = '1.1'): string => `${method} ${path} HTTP/${version}\r\nHost: gw\r\n${headers}Connection: close\r\n\r\n`;

describe('Max-Forwards', () => {
  it('OPTIONS with Max-Forwards: 0 is answered by the gateway, 200 with the route\'s Allow; nothing goes upstream', async () => {
    const gw = await gateway();
    const r = await rawExchange(gw.url, ask('OPTIONS', '/x', 'Max-Forwards: 0\r\n'));
    expect(r.status).toBe(200);
    expect(r.head).toMatch(/\r\nAllow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\n/);
    expect(r.body).toBe('');
    const traced = await rawExchange(gw.url, ask('OPTIONS', '/traced/a', 'Max-Forwards: 0\r\n'));
    expect(traced.head).toMatch(/\r\nAllow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE\r\n/);
    expect(gw.seen).toEqual([]);
  });

  it('OPTIONS and TRACE above 0 go upstream one less; other methods keep theirs', async () => {
    const gw = await gateway();
    expect((await rawExchange(gw.url, ask('OPTIONS', '/x', 'Max-Forwards: 5\r\n'))).body).toBe('upstream');
    expect((await rawExchange(gw.url, ask('TRACE', '/traced/a', 'Max-Forwards: 1\r\n'))).body).toBe('upstream');
    expect((await rawExchange(gw.url, ask('GET', '/x', 'Max-Forwards: 0\r\n'))).body).toBe('upstream');
    // Any number of digits is a Max-Forwards (1*DIGIT); one less exactly.
    expect((await rawExchange(gw.url, ask('OPTIONS', '/x', 'Max-Forwards: 100000000000000000000\r\n'))).body).toBe('upstream');
    expect((await rawExchange(gw.url, ask('OPTIONS', '/x', 'Max-Forwards: 000\r\n'))).status).toBe(200);
    expect(gw.seen.map((s) => [s.method, s.headers['max-forwards']])).toEqual([['OPTIONS', '4'], ['TRACE', '0'], ['GET', '0'], ['OPTIONS', '99999999999999999999']]);
  });

  it('TRACE with Max-Forwards: 0 on a route allowing TRACE is reflected as message/http, without credentials or cookies', async () => {
    const gw = await gateway();
    const r = await rawExchange(gw.url, ask('TRACE', '/traced/a?q=1', 'Max-Forwards: 0\r\nX-Probe: yes\r\nCookie: sid=secret\r\nAuthorization: Bearer secret\r\n'));
    expect(r.status).toBe(200);
    expect(r.head).toMatch(/\r\nContent-Type: message\/http\r\n/);
    expect(r.body).toBe('TRACE /traced/a?q=1 HTTP/1.1\r\nHost: gw\r\nMax-Forwards: 0\r\nX-Probe: yes\r\nConnection: close\r\n\r\n');
    // Where TRACE is not allowed it stays 405, Max-Forwards or not.
    expect((await rawExchange(gw.url, ask('TRACE', '/x', 'Max-Forwards: 0\r\n'))).status).toBe(405);
    expect(gw.seen).toEqual([]);
  });

  it('OPTIONS * and an OPTIONS answered at Max-Forwards: 0 get one answer: 200 with Allow and Content-Length: 0', async () => {
    // RFC 9110 section 9.3.7 (RFC 7231 section 4.3.7): an OPTIONS answer without content states
    // Content-Length: 0, which a 204 must not (RFC 9110 section 8.6). OPTIONS * was 204 without it.
    const gw = await gateway();
    for (const target of ['*', '/x']) {
      const r = await rawExchange(gw.url, ask('OPTIONS', target, 'Max-Forwards: 0\r\n'));
      expect([target, r.status, r.body]).toEqual([target, 200, '']);
      expect(r.head, target).toMatch(/\r\nContent-Length: 0\r\n/i);
      expect(r.head, target).toMatch(/\r\nAllow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\n/);
    }
    const star = await rawExchange(gw.url, ask('OPTIONS', '*'));
    expect([star.status, /\r\nContent-Length: 0\r\n/i.test(star.head)]).toEqual([200, true]);
    expect(gw.seen).toEqual([]);
  });

  it('Max_Forwards (the underscore twin) never reaches the upstream on OPTIONS or TRACE: the gateway owns the hop count', async () => {
    // A CGI-style upstream (Rack, PHP, WSGI) reads Max_Forwards as HTTP_MAX_FORWARDS, Max-Forwards:
    // a Max_Forwards: 0 went upstream unchanged, beside (or instead of) the count the gateway decremented.
    const gw = await gateway();
    await rawExchange(gw.url, ask('OPTIONS', '/x', 'Max_Forwards: 0\r\n'));
    await rawExchange(gw.url, ask('OPTIONS', '/x', 'Max-Forwards: 5\r\nMax_Forwards: 0\r\nmax_forwards: 1\r\n'));
    await rawExchange(gw.url, ask('TRACE', '/traced/a', 'Max_Forwards: 0\r\nMax-Forwards: 2\r\n'));
    // Other methods' Max-Forwards goes as it came, and so does its twin.
    await rawExchange(gw.url, ask('GET', '/x', 'Max_Forwards: 0\r\n'));
    expect(gw.seen.map((s) => [s.method, s.headers['max-forwards'], s.headers.max_forwards])).toEqual([
      ['OPTIONS', undefined, undefined],
      ['OPTIONS', '4', undefined],
      ['TRACE', '1', undefined],
      ['GET', undefined, '0'],
    ]);
  });

  it('Max-Forwards named in Connection is for this hop, the gateway: obeyed at 0 (answered here), dropped above 0 (not forwarded, not decremented)', async () => {
    // RFC 9110 section 7.6.1: a field named in Connection is meant for the recipient of this
    // connection, the gateway, which removes it before forwarding. Decided in session 17 (a guard:
    // passes before too; fails if the gateway forwarded a named one, or stopped obeying it at 0).
    const gw = await gateway();
    const zero = await rawExchange(gw.url, `OPTIONS /x HTTP/1.1\r\nHost: gw\r\nMax-Forwards: 0\r\nConnection: max-forwards, close\r\n\r\n`);
    expect([zero.status, zero.body]).toEqual([200, '']);
    expect(zero.head).toMatch(/\r\nAllow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\n/);
    const traced = await rawExchange(gw.url, `TRACE /traced/a HTTP/1.1\r\nHost: gw\r\nMax-Forwards: 0\r\nConnection: Max-Forwards\r\nConnection: close\r\n\r\n`);
    expect([traced.status, traced.head]).toEqual([200, expect.stringMatching(/\r\nContent-Type: message\/http\r\n/)]);
    expect(gw.seen).toEqual([]);
    await rawExchange(gw.url, `OPTIONS /x HTTP/1.1\r\nHost: gw\r\nMax-Forwards: 5\r\nConnection: max-forwards, close\r\n\r\n`);
    await rawExchange(gw.url, `TRACE /traced/a HTTP/1.1\r\nHost: gw\r\nConnection: MAX-FORWARDS\r\nMax-Forwards: 3\r\nConnection: close\r\n\r\n`);
    expect(gw.seen.map((s) => [s.method, s.headers['max-forwards']])).toEqual([['OPTIONS', undefined], ['TRACE', undefined]]);
  });

  it('a Max-Forwards that is not one decimal number on OPTIONS is 400 bad_header', async () => {
    const gw = await gateway();
    for (const h of ['Max-Forwards: 0, 5\r\n', 'Max-Forwards: -1\r\n', 'Max-Forwards: 1\r\nMax-Forwards: 0\r\n', 'Max-Forwards: 0x1\r\n']) {
      const r = await rawExchange(gw.url, ask('OPTIONS', '/x', h));
      expect([h, r.status, JSON.parse(r.body).reason]).toEqual([h, 400, 'bad_header']);
      expect(r.body).toContain('Max-Forwards must be one decimal number');
    }
    expect(gw.seen).toEqual([]);
  });

  it('OPTIONS * judges Max-Forwards as a route does: a malformed one is 400 bad_header, a valid one answered here', async () => {
    // Until session 18 OPTIONS * answered 200 to Max-Forwards: abc, which OPTIONS /x refused 400.
    const gw = await gateway();
    for (const target of ['*', '/x', 'http://gw']) {
      for (const h of ['Max-Forwards: abc\r\n', 'Max-Forwards: 1\r\nMax-Forwards: 2\r\n', 'Max-Forwards: +3\r\n']) {
        const r = await rawExchange(gw.url, ask('OPTIONS', target, h).replace('Host: gw', `Host: ${new URL(gw.url).host}`).replace('http://gw', gw.url));
        expect([target, h, r.status, JSON.parse(r.body).reason]).toEqual([target, h, 400, 'bad_header']);
      }
    }
    for (const h of ['Max-Forwards: 7\r\n', 'Max-Forwards: 0\r\n', '']) expect([h, (await rawExchange(gw.url, ask('OPTIONS', '*', h))).status]).toEqual([h, 200]);
    expect(gw.seen).toEqual([]);
  });
});

describe('Via', () => {
  it('every forwarded request carries Via with the client\'s HTTP version, after a Via the client sent', async () => {
    const gw = await gateway();
    await rawExchange(gw.url, ask('GET', '/x'));
    await rawExchange(gw.url, ask('GET', '/x', '', '1.0'));
    await rawExchange(gw.url, ask('POST', '/x', 'Via: 1.0 fred, 1.1 p.example\r\nContent-Length: 2\r\n').replace(/\r\n\r\n$/, '\r\n\r\nhi'));
    expect(gw.seen.map((s) => s.headers.via)).toEqual(['1.1 sluice', '1.0 sluice', '1.0 fred, 1.1 p.example, 1.1 sluice']);
  });
});
