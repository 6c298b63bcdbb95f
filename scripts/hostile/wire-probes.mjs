// One-connection probes: a request as a hostile or broken client writes it, and what the
// gateway must answer — a status (with its problem+json reason when the gateway answers
// itself), the target the upstream sees when it is forwarded, and headers that must not
// reach the upstream. Never a hang: every probe is bounded by its `waitMs`.
import { echoed, raw, reasonOf } from './lib.mjs';

const get = (target, headers = '', version = '1.1') => `GET ${target} HTTP/${version}\r\nHost: gw\r\n${headers}Connection: close\r\n\r\n`;
// keep-alive: a framing error must close the connection itself
const post = (head, body) => `POST /echo HTTP/1.1\r\nHost: gw\r\n${head}\r\n${body}`;
const bad = (reason, status = 400) => ({ status, reason });
const fwd = (url) => ({ status: 200, url });
const PLANT = '6.6.6.6';

/** [name, bytes (or parts), expectation, options] */
export function wireProbes() {
  return [
    // Paths
    ['dot segments', get('/a/b/../../c/./d'), fwd('/c/d')],
    ['%2e%2e segments', get('/a/b/%2e%2e/%2E%2e/x'), fwd('/x')],
    ['%2f encoded slash', get('/a%2fb'), bad('encoded_slash')],
    ['%2F mixed case slash', get('/a%2Fb'), bad('encoded_slash')],
    ['%5c backslash', get('/a%5cb'), bad('backslash')],
    ['double slash', get('//evil.example/x'), fwd('/evil.example/x')],
    ['above root', get('/../../etc/passwd'), bad('above_root')],
    ['%2e%2e above root', get('/%2e%2e/%2e%2e/etc/passwd'), bad('above_root')],
    ['%00 NUL', get('/a%00b'), bad('control_char')],
    ['raw NUL in target', get('/a\0b'), { status: 400 }],
    ['%252e double encoded', get('/a/%252e%252e/b'), bad('double_encoded')],
    ['%c0%ae overlong utf-8', get('/a/%c0%ae%c0%ae/b'), bad('bad_utf8')],
    ['%e0%80%ae overlong 3-byte', get('/a/%e0%80%ae/b'), bad('bad_utf8')],
    ['mixed case escape %4a', get('/%4a%4B'), fwd('/JK')],
    ['trailing %', get('/a%'), bad('bad_escape')],
    ['%zz', get('/a%zz'), bad('bad_escape')],
    ['..;/ param', get('/a/..;/b'), bad('dot_segment_param')],
    ['fragment', get('/a#b'), bad('fragment')],
    ['query kept', get('/a?x=%2f..&y=1'), fwd('/a?x=%2f..&y=1')],
    ['overlong target (17 kB)', get(`/${'a'.repeat(17_000)}`), { status: 414 }],
    ['15 kB of /a/..', get(`${'/a/..'.repeat(3_000)}/z`), fwd('/z')],
    // Framing
    ['two Content-Lengths', post('Content-Length: 3\r\nContent-Length: 4\r\n', 'abcd'), { status: 400, closed: true }],
    ['Content-Length 3, 3', post('Content-Length: 3, 3\r\n', 'abc'), { status: 400, closed: true }],
    ['CL + TE', post('Content-Length: 3\r\nTransfer-Encoding: chunked\r\n', '3\r\nabc\r\n0\r\n\r\n'), { status: 400, closed: true }],
    ['TE chunked, bad size zz', post('Transfer-Encoding: chunked\r\n', 'zz\r\nabc\r\n0\r\n\r\n'), { status: 400, closed: true }],
    ['TE chunked, size -3', post('Transfer-Encoding: chunked\r\n', '-3\r\nabc\r\n0\r\n\r\n'), { status: 400, closed: true }],
    ['TE chunked, size 0x3', post('Transfer-Encoding: chunked\r\n', '0x3\r\nabc\r\n0\r\n\r\n'), { status: 400, closed: true }],
    ['TE chunked, 2^64 size', post('Transfer-Encoding: chunked\r\n', '10000000000000003\r\nabc\r\n0\r\n\r\n'), { status: [400, 413], closed: true }],
    ['TE chunked, short chunk', post('Transfer-Encoding: chunked\r\n', '5\r\nabc\r\n0\r\n\r\n'), { status: 400, closed: true }],
    ['chunk extension', post('Transfer-Encoding: chunked\r\n', '3;name=value\r\nabc\r\n0\r\n\r\n'), { status: 200, body: 3 }],
    ['chunk extension, open quote', post('Transfer-Encoding: chunked\r\n', '3;a="b\r\nabc\r\n0\r\n\r\n'), { status: 400, closed: true }],
    ['trailers dropped', post('Transfer-Encoding: chunked\r\n', '3\r\nabc\r\n0\r\nX-Api-Key: planted\r\nHost: evil\r\n\r\n'), { status: 200, body: 3, trailersEmpty: true }],
    ['TE xchunked', post('Transfer-Encoding: xchunked\r\n', '3\r\nabc\r\n0\r\n\r\n'), { status: [400, 501], closed: true }],
    ['TE chunked, chunked', post('Transfer-Encoding: chunked, chunked\r\n', '3\r\nabc\r\n0\r\n\r\n'), { status: 400, closed: true }],
    ['TE gzip, chunked', post('Transfer-Encoding: gzip, chunked\r\n', '3\r\nabc\r\n0\r\n\r\n'), { status: 501, closed: true }],
    ['CL -1', post('Content-Length: -1\r\n', ''), { status: 400, closed: true }],
    ['CL +3', post('Content-Length: +3\r\n', 'abc'), { status: 400, closed: true }],
    ['CL 23 digits', post('Content-Length: 12345678901234567890123\r\n', 'abc'), { status: [400, 413], closed: true }],
    ['obs-fold', get('/x', 'X-A: b\r\n c\r\n'), { status: 400 }],
    ['space before colon', get('/x', 'X-A : b\r\n'), { status: 400 }],
    ['bare LF head', 'GET /x HTTP/1.1\nHost: gw\nConnection: close\n\n', { status: [200, 400] }],
    // Heads
    ['giant header (64 kB)', get('/x', `X-Big: ${'a'.repeat(65_536)}\r\n`), { status: 431 }],
    ['2,000 small headers (12 kB)', get('/x', 'a: b\r\n'.repeat(2_000)), { status: 200 }],
    ['4,000 small headers (24 kB)', get('/x', 'a: b\r\n'.repeat(4_000)), { status: 431 }],
    ['two Hosts', 'GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n', { status: 400 }],
    ['no Host on 1.1', 'GET /x HTTP/1.1\r\nConnection: close\r\n\r\n', { status: 400 }],
    ['HTTP/1.0 no Host', 'GET /x HTTP/1.0\r\n\r\n', { status: 200, url: '/x' }],
    ['HTTP/0.9', 'GET /x\r\n\r\n', { status: [400, 505, 0] }],
    ['HTTP/2.0 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', { status: [400, 505] }],
    ['HTTP/1.2', get('/x', '', '1.2'), { status: [400, 505] }],
    ['lowercase method', 'get /x HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n', { status: [400, 501] }],
    // Planted headers
    ['planted X-Forwarded-For', get('/x', `X-Forwarded-For: ${PLANT}\r\nX-Real-IP: ${PLANT}\r\nForwarded: for=${PLANT}\r\nX-Forwarded-Host: evil\r\nX-Forwarded-Proto: https\r\n`), { status: 200, planted: [PLANT, 'evil', 'https'] }],
    ['planted underscore twins', get('/x', `X_Forwarded_For: ${PLANT}\r\nX-Forwarded_For: ${PLANT}\r\n`), { status: [200, 400], planted: [PLANT] }],
    ['Connection names x-forwarded-for', get('/x', `Connection: x-forwarded-for, via\r\n`), { status: 200, mustHave: ['x-forwarded-for'] }],
    ['hop-by-hop named in Connection', get('/x', 'X-Secret: s3cret\r\nConnection: x-secret\r\n'), { status: 200, planted: ['s3cret'] }],
    ['Proxy header (httpoxy)', get('/x', 'Proxy: http://evil:1\r\n'), { status: 200, planted: ['http://evil:1'] }],
    ['Keep-Alive / TE / Upgrade hop-by-hop', get('/x', 'Keep-Alive: timeout=999\r\nTE: trailers\r\nProxy-Authorization: Basic cGxhbnQ=\r\n'), { status: 200, planted: ['timeout=999', 'Basic cGxhbnQ='] }],
    // Expect and forms
    ['Expect: 200-ok', get('/x', 'Expect: 200-ok\r\n'), { status: 417 }],
    ['Expect 100-continue, body never sent', ['POST /echo HTTP/1.1\r\nHost: gw\r\nContent-Length: 10\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n'], { status: 408, waitMs: 40_000 }],
    ['Expect 100-continue, body at once', post('Content-Length: 3\r\nExpect: 100-continue\r\n', 'abc'), { status: 200, body: 3 }],
    ['Expect 100-continue on GET no body', get('/x', 'Expect: 100-continue\r\n'), { status: 200 }],
    ['absolute form, own', `GET http://127.0.0.1:{PORT}/x HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\nConnection: close\r\n\r\n`, fwd('/x')],
    ['absolute form, foreign', 'GET http://evil.example/x HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n', bad('foreign_target')],
    ['absolute form, Host differs', `GET http://127.0.0.1:{PORT}/x HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n`, { status: [200, 400] }],
    ['CONNECT', 'CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n', { status: [400, 405], closed: true }],
    ['TRACE', 'TRACE /x HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n', { status: 405 }],
    ['websocket Upgrade', get('/ws', 'Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n').replace('Connection: close', 'Connection: Upgrade'), { status: [200, 400, 501], planted: [] }],
    ['h2c Upgrade', get('/x', 'Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n').replace('Connection: close', 'Connection: Upgrade, HTTP2-Settings'), { status: 200, planted: ['AAMAAABkAARAAAAAAAIAAAAA'] }],
    ['Max-Forwards: 0 OPTIONS', 'OPTIONS /x HTTP/1.1\r\nHost: gw\r\nMax-Forwards: 0\r\nConnection: close\r\n\r\n', { status: 200, notForwarded: true }],
    ['HEAD keeps no body', 'HEAD /x HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n', { status: 200, heads: [true] }],
    // hostile-26: more framing, targets, methods and Host forms (each answered as the session found it)
    ['TE chunked, identity', post('Transfer-Encoding: chunked, identity\r\n', '3\r\nabc\r\n0\r\n\r\n'), { status: 400, reason: 'bad_transfer_encoding', closed: true }],
    ['TE on two lines', post('Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n', '3\r\nabc\r\n0\r\n\r\n'), { status: 400, closed: true }],
    ['TE CHUNKED (any case)', post('Transfer-Encoding: CHUNKED\r\n', '3\r\nabc\r\n0\r\n\r\n'), { status: 200, body: 3 }],
    ['TE with a vertical tab', post('Transfer-Encoding: \x0bchunked\r\n', '3\r\nabc\r\n0\r\n\r\n'), { status: 400, closed: true }],
    ['TE value on an obs-fold line', post('Transfer-Encoding:\r\n chunked\r\n', '3\r\nabc\r\n0\r\n\r\n'), { status: 400, closed: true }],
    ['TE chunked on HTTP/1.0', 'POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', { status: 400, closed: true }],
    ['chunk size 0003', post('Transfer-Encoding: chunked\r\n', '0003\r\nabc\r\n0\r\n\r\n'), { status: 200, body: 3 }],
    ['chunk size, trailing space', post('Transfer-Encoding: chunked\r\n', '3 \r\nabc\r\n0\r\n\r\n'), { status: 400, closed: true }],
    ['chunks ended by bare LF', post('Transfer-Encoding: chunked\r\n', '3\nabc\n0\n\n'), { status: 400, closed: true }],
    ['CL 003', post('Content-Length: 003\r\n', 'abc'), { status: 200, body: 3 }],
    ['CL "3 3"', post('Content-Length: 3 3\r\n', 'abc'), { status: 400, closed: true }],
    ['NUL in a header value', get('/x', 'X-A: a\x00b\r\n'), { status: 400 }],
    ['DEL in a header value', get('/x', 'X-A: a\x7fb\r\n'), { status: 400 }],
    ['bare CR in a header value', get('/x', 'X-A: a\rb\r\n'), { status: 400 }],
    ['empty header name', get('/x', ': b\r\n'), { status: 400 }],
    ['raw UTF-8 in the query', get('/a?x=\xc3\xa9'), { status: 400 }],
    ['raw DEL in the query', get('/a?x=\x7f'), { status: 400 }],
    ['GET *', get('*'), { status: 400 }],
    ['authority form GET', get('gw:80'), { status: 400 }],
    ['absolute form, https, own', `GET https://127.0.0.1:{PORT}/x HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\nConnection: close\r\n\r\n`, { status: [400, 421] }],
    ['absolute form, userinfo', `GET http://u@127.0.0.1:{PORT}/x HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\nConnection: close\r\n\r\n`, { status: 400 }],
    ['absolute form, no path', `GET http://127.0.0.1:{PORT} HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\nConnection: close\r\n\r\n`, fwd('/')],
    ['Host with a comma (a list to X-Forwarded-Host)', 'GET /x HTTP/1.1\r\nHost: a,for=6.6.6.6\r\nConnection: close\r\n\r\n', { status: 400, reason: 'bad_host' }],
    ['Host with ;', 'GET /x HTTP/1.1\r\nHost: a;for=6.6.6.6\r\nConnection: close\r\n\r\n', { status: 400, reason: 'bad_host' }],
    ['Host with userinfo', 'GET /x HTTP/1.1\r\nHost: a@evil\r\nConnection: close\r\n\r\n', { status: 400, reason: 'bad_host' }],
    ['Host with a zone id', 'GET /x HTTP/1.1\r\nHost: [fe80::1%25eth0]\r\nConnection: close\r\n\r\n', { status: 400, reason: 'bad_host' }],
    ['PRI method', 'PRI /x HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n', { status: 400 }],
    ['PROPFIND forwarded', 'PROPFIND /x HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n', fwd('/x')],
    ['Connection names content-length', 'POST /echo HTTP/1.1\r\nHost: gw\r\nContent-Length: 3\r\nConnection: content-length, close\r\n\r\nabc', { status: 200, body: 3 }],
    ['Connection: keep-alive, close then a request', 'GET /x HTTP/1.1\r\nHost: gw\r\nConnection: keep-alive, close\r\n\r\nGET /y HTTP/1.1\r\nHost: gw\r\n\r\n', { status: 200, closed: true }],
  ];
}

/** Run one probe on the gateway's port; returns { ok, expected, actual }. */
export async function runWire(port, upstream, [name, bytes, want]) {
  const parts = (Array.isArray(bytes) ? bytes : [bytes]).map((p) => (typeof p === 'string' ? p.replaceAll('{PORT}', String(port)) : p));
  const before = upstream.records.length;
  const r = await raw(port, parts, { waitMs: want.waitMs ?? 5_000, heads: want.heads ?? [] });
  const first = r.first;
  const st = first?.status ?? 0;
  const reason = reasonOf(first);
  const seen = upstream.records.slice(before);
  const echo = first !== undefined && st === 200 ? echoed(first) : undefined;
  const problems = [];
  const statuses = [want.status].flat();
  if (r.why === 'timeout' && first === undefined) problems.push('hung');
  if (!statuses.includes(st)) problems.push(`status ${st}`);
  if (want.reason !== undefined && reason !== want.reason) problems.push(`reason ${reason || '-'}`);
  if (want.url !== undefined && echo?.url !== want.url) problems.push(`upstream saw ${echo?.url ?? 'nothing'}`);
  if (want.closed && !r.closed) problems.push('left open');
  if (st >= 400 && seen.length > 0) problems.push(`forwarded ${seen.map((s) => s.url.slice(0, 40)).join(' ')}`);
  if (want.notForwarded && seen.length > 0) problems.push('forwarded');
  if (want.body !== undefined && seen.length > 0 && seen[0].body !== want.body) problems.push(`upstream body ${seen[0].body}`);
  if (want.trailersEmpty && seen.some((s) => s.trailers.length > 0)) problems.push(`trailers forwarded ${seen[0].trailers}`);
  for (const value of want.planted ?? []) {
    for (const s of seen) for (let i = 1; i < s.raw.length; i += 2) if (s.raw[i].includes(value)) problems.push(`leaked ${s.raw[i - 1]}: ${s.raw[i]}`);
  }
  for (const header of want.mustHave ?? []) if (seen.length > 0 && !seen[0].raw.some((h, i) => i % 2 === 0 && h.toLowerCase() === header)) problems.push(`dropped ${header}`);
  const expected = `${statuses.join('/')}${want.reason ? ` ${want.reason}` : ''}${want.url ? ` → ${want.url}` : ''}${want.closed ? ' closed' : ''}`;
  const actual = `${st || r.why} ${reason}${echo ? ` → ${echo.url.slice(0, 40)}` : ''}${r.closed ? ' closed' : ''} (${r.ms} ms)`;
  return { name, ok: problems.length === 0, expected, actual: problems.length ? `${actual} — ${problems.join('; ')}` : actual };
}
