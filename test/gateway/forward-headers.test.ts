// Header lists across the proxy, as flat name/value lists: hop-by-hop headers dropped both
// ways, duplicates kept in order, the gateway's own headers yielding to the upstream's, and
// the forwarding headers replaced for an untrusted peer and appended to for a trusted one.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { responseHead, STRIPPED_HEADERS, strippedSet, upstreamRequestHead } from '../../src/gateway/forward-headers.js';
import type { HeaderPair } from '../../src/http/index.js';
import { trustCheck } from '../../src/http/trusted-proxies.js';

/** A flat name/value list as pairs, for readable expectations. */
function pairs(flat: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

/** Values of `name` (any case), in order. */
const valuesOf = (flat: readonly string[], name: string): string[] => pairs(flat).filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
const namesOf = (flat: readonly string[]): string[] => pairs(flat).map(([n]) => n.toLowerCase());

/**
 * What the gateway reads of an IncomingMessage: rawHeaders, the parsed headers (built from
 * the raw list as node:http does for these: names lowercased, repeats joined with ", ",
 * Set-Cookie a list, a second Host dropped) and the peer's address.
 */
function fakeRequest(raw: readonly string[], remoteAddress: string): IncomingMessage {
  const headers: IncomingHttpHeaders = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const prev = headers[name];
    if (name === 'set-cookie') headers['set-cookie'] = [...(headers['set-cookie'] ?? []), value];
    else if (prev === undefined) headers[name] = value;
    else if (name !== 'host') headers[name] = `${String(prev)}, ${value}`;
  }
  return { rawHeaders: [...raw], headers, httpVersion: '1.1', socket: { remoteAddress } } as unknown as IncomingMessage;
}

const asBuffers = (raw: readonly string[]): Buffer[] => raw.map((s) => Buffer.from(s, 'latin1'));

describe('responseHead', () => {
  const upstreamRaw = [
    'Content-Type', 'text/plain',
    'Set-Cookie', 'a=1; Path=/',
    'Connection', 'close, X-Secret',
    'X-Secret', 'internal',
    'Keep-Alive', 'timeout=5',
    'Transfer-Encoding', 'chunked',
    'TE', 'trailers',
    'Trailer', 'X-Checksum',
    'Upgrade', 'h2c',
    'Proxy-Authenticate', 'Basic',
    'Proxy-Connection', 'keep-alive',
    'Set-Cookie', 'b=2; Path=/',
    'X-End', 'kept',
  ];
  const expected: [string, string][] = [
    ['Content-Type', 'text/plain'],
    ['Set-Cookie', 'a=1; Path=/'],
    ['Set-Cookie', 'b=2; Path=/'],
    ['X-End', 'kept'],
  ];

  it('keeps end-to-end headers in order with duplicates (Buffer[] as undici hands them, and string[])', () => {
    expect(pairs(responseHead(asBuffers(upstreamRaw), []))).toEqual(expected);
    expect(pairs(responseHead(upstreamRaw, []))).toEqual(expected);
  });

  it('drops hop-by-hop headers and the headers Connection names, in any case and from every Connection header', () => {
    const raw = ['connection', 'X-One', 'X-One', '1', 'CONNECTION', ' x-two ,, ', 'x-TWO', '2', 'X-Three', '3', 'KEEP-ALIVE', 'timeout=1', 'proxy-foo', 'bar'];
    for (const form of [raw, asBuffers(raw)]) expect(pairs(responseHead(form, []))).toEqual([['X-Three', '3']]);
  });

  it('keeps the bytes of a non-ASCII value as latin1 (as node:http reads them)', () => {
    const value = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "café" in latin1
    expect(responseHead([Buffer.from('X-Name'), value], [])).toEqual(['X-Name', 'café']);
  });

  it("puts the gateway's own headers first; a single-valued one the upstream also sent (in any case) is the upstream's", () => {
    const own: HeaderPair[] = [
      ['X-RateLimit-Limit', '5'],
      ['X-RateLimit-Remaining', '4'],
    ];
    // No clash: both of the gateway's headers, then the upstream's.
    expect(pairs(responseHead(asBuffers(['X-End', 'kept']), own))).toEqual([...own, ['X-End', 'kept']]);
    // The upstream's X-RateLimit-Remaining (in another case) wins; the gateway's X-RateLimit-Limit stays.
    for (const form of [['x-ratelimit-REMAINING', '99'], asBuffers(['x-ratelimit-REMAINING', '99'])]) {
      expect(pairs(responseHead(form, own))).toEqual([
        ['X-RateLimit-Limit', '5'],
        ['x-ratelimit-REMAINING', '99'],
      ]);
    }
  });

  it("the draft's RateLimit and RateLimit-Policy lists carry the gateway's items and the upstream's (hostile-19: the upstream's replaced the gateway's)", () => {
    const own: HeaderPair[] = [
      ['RateLimit', '"api";r=4;t=1'],
      ['RateLimit-Policy', '"api";q=5;w=1'],
    ];
    for (const form of [['ratelimit-POLICY', '"upstream";q=100', 'RateLimit', '"upstream";r=99'], asBuffers(['ratelimit-POLICY', '"upstream";q=100', 'RateLimit', '"upstream";r=99'])]) {
      expect(pairs(responseHead(form, own))).toEqual([
        ['RateLimit', '"api";r=4;t=1'],
        ['RateLimit-Policy', '"api";q=5;w=1'],
        ['ratelimit-POLICY', '"upstream";q=100'],
        ['RateLimit', '"upstream";r=99'],
      ]);
    }
  });

  it('an empty upstream list gives only the own headers', () => {
    expect(responseHead([], [['RateLimit', 'r']])).toEqual(['RateLimit', 'r']);
    expect(responseHead([], [])).toEqual([]);
  });
});

describe('upstreamRequestHead', () => {
  const UPSTREAM = '127.0.0.1:9000';
  const loopback = trustCheck(['loopback']);

  const clientRaw = [
    'Host', 'gw.example:8080',
    'Accept', 'text/html',
    'Connection', 'keep-alive, X-Private',
    'X-Private', 'secret',
    'Keep-Alive', 'timeout=5',
    'TE', 'trailers',
    'Trailer', 'X-Checksum',
    'Transfer-Encoding', 'chunked',
    'Upgrade', 'websocket',
    'Proxy-Authorization', 'Basic eA==',
    'Cookie', 'a=1',
    'X-Forwarded-For', '6.6.6.6',
    'X-Forwarded-Proto', 'https',
    'X-Forwarded-Host', 'evil.example',
    'Forwarded', 'for=6.6.6.6;proto=https',
    'Cookie', 'b=2',
    'Accept', 'application/json',
  ];

  it('keeps end-to-end headers in order with duplicates, drops hop-by-hop and Connection-named ones', () => {
    const head = upstreamRequestHead(fakeRequest(clientRaw, '192.0.2.10'), UPSTREAM, undefined);
    const kept = pairs(head).filter(([n]) => !['host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'via'].includes(n.toLowerCase()));
    expect(kept).toEqual([
      ['Accept', 'text/html'],
      ['Cookie', 'a=1'],
      ['Cookie', 'b=2'],
      ['Accept', 'application/json'],
    ]);
    for (const hop of ['connection', 'x-private', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authorization']) {
      expect(namesOf(head)).not.toContain(hop);
    }
  });

  it('drops the underscore twins of framing and hop-by-hop headers (the header itself to a CGI-style upstream: hostile-4)', () => {
    const raw = ['Transfer_Encoding', 'identity', 'Content_Length', '40', 'keep_alive', 'timeout=5', 'Proxy_Authorization', 'Basic x', 'X_Private', '1', 'Connection', 'x-private', 'Accept', '*/*'];
    const head = upstreamRequestHead(fakeRequest(raw, '192.0.2.10'), UPSTREAM, undefined);
    expect(pairs(head).filter(([n]) => !['host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'via'].includes(n))).toEqual([['Accept', '*/*']]);
  });

  it("replaces the client's Host and forwarding headers for an untrusted peer", () => {
    for (const trusted of [undefined, loopback]) {
      const head = upstreamRequestHead(fakeRequest(clientRaw, '192.0.2.10'), UPSTREAM, trusted);
      expect(valuesOf(head, 'host')).toEqual([UPSTREAM]);
      expect(valuesOf(head, 'x-forwarded-for')).toEqual(['192.0.2.10']);
      expect(valuesOf(head, 'x-forwarded-proto')).toEqual(['http']);
      // The Host the client asked the gateway for, not the X-Forwarded-Host it claimed.
      expect(valuesOf(head, 'x-forwarded-host')).toEqual(['gw.example:8080']);
      expect(valuesOf(head, 'forwarded')).toEqual(['for=192.0.2.10;host="gw.example:8080";proto=http']);
    }
  });

  it('appends to the forwarding headers of a trusted peer: the header it writes, and Forwarded rebuilt from that chain', () => {
    const head = upstreamRequestHead(fakeRequest(clientRaw, '127.0.0.1'), UPSTREAM, loopback);
    expect(valuesOf(head, 'host')).toEqual([UPSTREAM]);
    expect(valuesOf(head, 'x-forwarded-for')).toEqual(['6.6.6.6, 127.0.0.1']);
    expect(valuesOf(head, 'x-forwarded-proto')).toEqual(['https']);
    expect(valuesOf(head, 'x-forwarded-host')).toEqual(['evil.example']);
    // The proxy's X-Forwarded-Host/-Proto say how the last entry reached it: on that element.
    expect(valuesOf(head, 'forwarded')).toEqual(['for=6.6.6.6;host=evil.example;proto=https, for=127.0.0.1;host="gw.example:8080";proto=http']);
    // With proxyHeader: forwarded, Forwarded is the chain and X-Forwarded-* come from it.
    const fwd = upstreamRequestHead(fakeRequest(clientRaw, '127.0.0.1'), UPSTREAM, loopback, undefined, 'forwarded');
    expect(valuesOf(fwd, 'forwarded')).toEqual(['for=6.6.6.6;proto=https, for=127.0.0.1;host="gw.example:8080";proto=http']);
    expect(valuesOf(fwd, 'x-forwarded-for')).toEqual(['6.6.6.6, 127.0.0.1']);
    expect(valuesOf(fwd, 'x-forwarded-proto')).toEqual(['https']);
    expect(valuesOf(fwd, 'x-forwarded-host')).toEqual(['gw.example:8080']);
  });

  it('a trusted proxy that writes X-Forwarded-For passes a client-planted Forwarded on: the upstream never gets its for=, only the chain the proxy wrote', () => {
    // The client sent `Forwarded: for=6.6.6.6` to the proxy, which appended the client to X-Forwarded-For only.
    const raw = ['Host', 'gw', 'Forwarded', 'for=6.6.6.6;host=admin.internal;proto=https', 'X-Forwarded-For', '198.51.100.9'];
    const head = upstreamRequestHead(fakeRequest(raw, '127.0.0.1'), UPSTREAM, loopback, undefined, 'x-forwarded-for');
    expect(valuesOf(head, 'forwarded')).toEqual(['for=198.51.100.9, for=127.0.0.1;host=gw;proto=http']);
    expect(valuesOf(head, 'x-forwarded-for')).toEqual(['198.51.100.9, 127.0.0.1']);
    expect(head.join('\n')).not.toContain('6.6.6.6');
    // Without any X-Forwarded-For from it: the peer's own element alone.
    const bare = upstreamRequestHead(fakeRequest(['Host', 'gw', 'Forwarded', 'for=6.6.6.6'], '127.0.0.1'), UPSTREAM, loopback);
    expect(valuesOf(bare, 'forwarded')).toEqual(['for=127.0.0.1;host=gw;proto=http']);
  });

  it('a trusted proxy that writes Forwarded passes a client-planted X-Forwarded-For (and -Proto, -Host) on: the upstream gets the Forwarded chain in them', () => {
    const raw = ['Host', 'gw', 'X-Forwarded-For', '6.6.6.6', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'admin.internal', 'Forwarded', 'for="[2001:db8::9]:4711";host=shop.example;proto=https'];
    const head = upstreamRequestHead(fakeRequest(raw, '127.0.0.1'), UPSTREAM, loopback, undefined, 'forwarded');
    expect(valuesOf(head, 'x-forwarded-for')).toEqual(['2001:db8::9, 127.0.0.1']);
    expect(valuesOf(head, 'x-forwarded-proto')).toEqual(['https']);
    expect(valuesOf(head, 'x-forwarded-host')).toEqual(['shop.example']);
    expect(valuesOf(head, 'forwarded')).toEqual(['for="[2001:db8::9]:4711";host=shop.example;proto=https, for=127.0.0.1;host=gw;proto=http']);
    expect(head.join('\n')).not.toMatch(/6\.6\.6\.6|admin\.internal/);
  });

  it('a trusted peer that sent repeated X-Forwarded-For headers keeps them all, in order, before itself', () => {
    const raw = ['Host', 'gw', 'X-Forwarded-For', '203.0.113.1', 'X-Forwarded-For', '203.0.113.2'];
    const head = upstreamRequestHead(fakeRequest(raw, '127.0.0.1'), UPSTREAM, loopback);
    expect(valuesOf(head, 'x-forwarded-for')).toEqual(['203.0.113.1, 203.0.113.2, 127.0.0.1']);
  });

  it('a trusted peer without forwarding headers starts them', () => {
    const head = upstreamRequestHead(fakeRequest(['Host', 'gw'], '127.0.0.1'), UPSTREAM, loopback);
    expect(valuesOf(head, 'x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(valuesOf(head, 'x-forwarded-proto')).toEqual(['http']);
    expect(valuesOf(head, 'x-forwarded-host')).toEqual(['gw']);
    expect(valuesOf(head, 'forwarded')).toEqual(['for=127.0.0.1;host=gw;proto=http']);
  });

  it("a connection's later requests: another Host is named as it is, and another trust list (a reload) is asked again", () => {
    const socket = { remoteAddress: '127.0.0.1' };
    const on = (raw: readonly string[]): IncomingMessage => Object.assign(fakeRequest(raw, '127.0.0.1'), { socket }) as IncomingMessage;
    const xff = ['X-Forwarded-For', '203.0.113.1'];
    expect(valuesOf(upstreamRequestHead(on(['Host', 'a', ...xff]), UPSTREAM, loopback), 'forwarded')).toEqual(['for=203.0.113.1, for=127.0.0.1;host=a;proto=http']);
    expect(valuesOf(upstreamRequestHead(on(['Host', 'b', ...xff]), UPSTREAM, loopback), 'forwarded')).toEqual(['for=203.0.113.1, for=127.0.0.1;host=b;proto=http']);
    expect(valuesOf(upstreamRequestHead(on(['Host', 'b', ...xff]), UPSTREAM, loopback), 'x-forwarded-for')).toEqual(['203.0.113.1, 127.0.0.1']);
    // The same connection after a reload that trusts nobody: its X-Forwarded-For is not believed any more.
    expect(valuesOf(upstreamRequestHead(on(['Host', 'b', ...xff]), UPSTREAM, undefined), 'x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(valuesOf(upstreamRequestHead(on(['Host', 'b', ...xff]), UPSTREAM, trustCheck(['10.0.0.0/8'])), 'x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(valuesOf(upstreamRequestHead(on(['Host', 'b', ...xff]), UPSTREAM, loopback), 'x-forwarded-for')).toEqual(['203.0.113.1, 127.0.0.1']);
  });

  it('quotes an IPv6 peer in Forwarded (bracketed) and writes it bare in X-Forwarded-For', () => {
    const head = upstreamRequestHead(fakeRequest(['Host', 'gw'], '2001:db8::7'), UPSTREAM, undefined);
    expect(valuesOf(head, 'x-forwarded-for')).toEqual(['2001:db8::7']);
    expect(valuesOf(head, 'forwarded')).toEqual(['for="[2001:db8::7]";host=gw;proto=http']);
    // A trusted IPv6 proxy is appended the same way.
    const trusted = upstreamRequestHead(fakeRequest(['Host', 'gw', 'Forwarded', 'for=192.0.2.1'], '::1'), UPSTREAM, loopback, undefined, 'forwarded');
    expect(valuesOf(trusted, 'forwarded')).toEqual(['for=192.0.2.1, for="[::1]";host=gw;proto=http']);
    // An IPv6 address in a trusted X-Forwarded-For is bracketed and quoted in the Forwarded built from it.
    const fromXff = upstreamRequestHead(fakeRequest(['Host', 'gw', 'X-Forwarded-For', '2001:db8::1, unknown'], '::1'), UPSTREAM, loopback);
    expect(valuesOf(fromXff, 'forwarded')).toEqual(['for="[2001:db8::1]", for=unknown, for="[::1]";host=gw;proto=http']);
  });

  it('writes an IPv4-mapped IPv6 peer as IPv4 (a dual-stack listener)', () => {
    const head = upstreamRequestHead(fakeRequest(['Host', 'gw'], '::ffff:192.0.2.44'), UPSTREAM, undefined);
    expect(valuesOf(head, 'x-forwarded-for')).toEqual(['192.0.2.44']);
    expect(valuesOf(head, 'forwarded')).toEqual(['for=192.0.2.44;host=gw;proto=http']);
  });

  it("without a Host from the client, the upstream's host stands in for it", () => {
    const head = upstreamRequestHead(fakeRequest(['Accept', '*/*'], '192.0.2.10'), UPSTREAM, undefined);
    expect(valuesOf(head, 'host')).toEqual([UPSTREAM]);
    expect(valuesOf(head, 'x-forwarded-host')).toEqual([UPSTREAM]);
    expect(valuesOf(head, 'forwarded')).toEqual([`for=192.0.2.10;host="${UPSTREAM}";proto=http`]);
  });

  it('escapes quotes and backslashes in a quoted Forwarded value', () => {
    const head = upstreamRequestHead(fakeRequest(['Host', 'a"b\\c'], '192.0.2.10'), UPSTREAM, undefined);
    expect(valuesOf(head, 'forwarded')).toEqual(['for=192.0.2.10;host="a\\"b\\\\c";proto=http']);
  });
});

describe('headers only a proxy may write', () => {
  const UPSTREAM = '127.0.0.1:9000';
  const planted = [
    'Host', 'gw',
    'X-Real-IP', '6.6.6.6',
    'True-Client-IP', '6.6.6.6',
    'x-client-ip', '6.6.6.6',
    'CF-Connecting-IP', '6.6.6.6',
    'Fastly-Client-IP', '6.6.6.6',
    'X-Cluster-Client-IP', '6.6.6.6',
    'X-Original-Forwarded-For', '6.6.6.6',
    'X-Forwarded-Port', '443',
    'X-Forwarded-Server', 'evil',
    'X-Forwarded-Prefix', '/admin',
    'X-Original-URL', '/admin',
    'X-Rewrite-URL', '/admin',
    'X-User-Id', 'root',
    'Accept', '*/*',
  ];
  const stripped = strippedSet(['X-User-Id']);

  it('are dropped from an untrusted peer, with those the operator lists (any case)', () => {
    for (const trusted of [undefined, trustCheck(['loopback'])]) {
      const head = upstreamRequestHead(fakeRequest(planted, '192.0.2.10'), UPSTREAM, trusted, stripped);
      expect(namesOf(head)).toEqual(['accept', 'host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'via']);
    }
    // Without an operator list, the defaults alone.
    expect(namesOf(upstreamRequestHead(fakeRequest(planted, '192.0.2.10'), UPSTREAM, undefined))).toEqual(['x-user-id', 'accept', 'host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'via']);
  });

  it('are kept from a trusted proxy (it wrote them)', () => {
    const head = upstreamRequestHead(fakeRequest(planted, '127.0.0.1'), UPSTREAM, trustCheck(['loopback']), stripped);
    expect(valuesOf(head, 'x-real-ip')).toEqual(['6.6.6.6']);
    expect(valuesOf(head, 'x-forwarded-port')).toEqual(['443']);
    expect(valuesOf(head, 'x-user-id')).toEqual(['root']);
    expect(namesOf(head).length).toBe(planted.length / 2 - 1 + 6);
  });

  it('an operator entry written with underscores strips the header either way it is sent (hostile-11: it stripped neither)', () => {
    const raw = ['X-User-Id', 'root', 'X_User_Id', 'root', 'Accept', '*/*'];
    for (const entry of ['x_user_id', 'X_USER_ID', 'x-user_id']) {
      expect(namesOf(upstreamRequestHead(fakeRequest(raw, '192.0.2.10'), UPSTREAM, undefined, strippedSet([entry]))), entry).toEqual(['accept', 'host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'via']);
    }
  });

  it('STRIPPED_HEADERS are lowercase names', () => {
    for (const n of STRIPPED_HEADERS) expect(n).toMatch(/^[a-z0-9-]+$/);
  });
});

describe('planted client-address and host-override headers beyond the usual ones (hostile finding F23)', () => {
  // What client-IP libraries read after the usual names (PHP's HTTP_CLIENT_IP, request-ip,
  // django-ipware), CDNs' own names, Envoy's, and the host/scheme overrides some frameworks honour.
  const planted = [
    'Client-IP',
    'X-Originating-IP',
    'X-Remote-IP',
    'X-Remote-Addr',
    'X-ProxyUser-Ip',
    'Forwarded-For',
    'X-Forwarded',
    'X-Appengine-User-IP',
    'Akamai-Client-IP',
    'Cdn-Src-Ip',
    'Ali-CDN-Real-IP',
    'Cf-Pseudo-IPv4',
    'X-Envoy-External-Address',
    'X-Envoy-Internal',
    'X-Host',
    'X-HTTP-Host-Override',
    'X-Original-Host',
    'Front-End-Https',
    'X-Url-Scheme',
  ];
  const raw = ['Host', 'gw', ...planted.flatMap((n) => [n, n.endsWith('Https') ? 'on' : n.endsWith('Scheme') ? 'https' : '6.6.6.6']), 'X-Kept', 'yes'];

  it('are dropped from an untrusted peer', () => {
    const names = namesOf(upstreamRequestHead(fakeRequest(raw, '203.0.113.9'), 'up:80', trustCheck(['10.0.0.0/8'])));
    for (const n of planted) expect(names, n).not.toContain(n.toLowerCase());
    expect(names).toContain('x-kept');
  });

  it('and passed on from a trusted proxy', () => {
    const names = namesOf(upstreamRequestHead(fakeRequest(raw, '10.1.2.3'), 'up:80', trustCheck(['10.0.0.0/8'])));
    for (const n of planted) expect(names, n).toContain(n.toLowerCase());
  });
});
