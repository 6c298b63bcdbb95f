// The canonical form of request paths (canonical-path.ts), form by form: what is decoded,
// resolved, collapsed and kept, and what is refused with which reason. The last test checks
// the forms against WHATWG URL's own normalising, the parser upstreams written for Node use.
import { describe, expect, it } from 'vitest';
import { canonicalTarget, withoutParams, withoutTrailingDotsAndSpaces } from '../../src/gateway/canonical-path.js';
import type { PathRefusal } from '../../src/gateway/canonical-path.js';
import type { GatewayConfigError } from '../../src/gateway/config-error.js';
import { resolveConfig } from '../../src/gateway/validate-config.js';

const same: readonly string[] = ['/', '/api', '/api/', '/api/x', '/api/x.json', '/a/.b/..c/...', "/a-b_c~d!$&'()*+,;=:@", '/%C3%A9t%C3%A9', '/a%20b', '/a%3Bb', '/a%25b', '/a%3F'];

const canonical: readonly (readonly [string, string])[] = [
  // The bypass forms of issue 10, all /api/x.
  ['/healthz/../api/x', '/api/x'],
  ['/healthz/%2e%2e/api/x', '/api/x'],
  ['/healthz/%2E%2E/api/x', '/api/x'],
  ['/healthz/.%2e/api/x', '/api/x'],
  ['//api/x', '/api/x'],
  ['/./api/x', '/api/x'],
  ['/%61pi/x', '/api/x'],
  ['/%41PI/x', '/API/x'],
  ['/api//x', '/api/x'],
  ['///api///x', '/api/x'],
  ['/api/./x', '/api/x'],
  ['/api/%2e/x', '/api/x'],
  ['/api/x/y/../../x', '/api/x'],
  // Trailing slashes and dot segments at the end.
  ['/api/x/', '/api/x/'],
  ['/api/x//', '/api/x/'],
  ['/api/x/.', '/api/x/'],
  ['/api/x/..', '/api/'],
  ['/api/..', '/'],
  ['/.', '/'],
  ['//', '/'],
  // Escapes: unreserved decoded, the rest in capitals; characters not allowed raw escaped.
  ['/a%7eb', '/a~b'],
  ['/a%2db%5fc', '/a-b_c'],
  ['/a%3bb', '/a%3Bb'],
  ['/a%c3%a9', '/a%C3%A9'],
  ['/a%252', '/a%252'],
  ['/a|b', '/a%7Cb'],
  ['/a"b<c>d', '/a%22b%3Cc%3Ed'],
  ['/a{b}^`[]', '/a%7Bb%7D%5E%60%5B%5D'],
  ['/caf\u00e9', '/caf%C3%A9'],
  // Beyond ASCII, valid UTF-8 that NFKC changes without making path syntax of it: kept.
  ['/%ef%ac%81le%25', '/%EF%AC%81le%25'],
  ['/%e2%91%a0', '/%E2%91%A0'],
];

const refused: readonly (readonly [string, PathRefusal])[] = [
  ['/api%2fx', 'encoded_slash'],
  ['/healthz/..%2Fapi/x', 'encoded_slash'],
  ['/api%5cx', 'backslash'],
  ['/healthz\\..\\api\\x', 'backslash'],
  ['/api\\x', 'backslash'],
  ['/api%00', 'control_char'],
  ['/api%0a/x', 'control_char'],
  ['/api%7f', 'control_char'],
  ['/api\u0000', 'control_char'],
  ['/api\tx', 'control_char'],
  ['/..', 'above_root'],
  ['/../api/x', 'above_root'],
  ['/%2e%2e/api/x', 'above_root'],
  ['/api/../../x', 'above_root'],
  ['/healthz/..;/api/x', 'dot_segment_param'],
  ['/healthz/.%2e;x=1/api/x', 'dot_segment_param'],
  ['/healthz/.;/api', 'dot_segment_param'],
  ['/healthz/%252e%252e/api', 'double_encoded'],
  ['/healthz/%25%32%65%25%32%65/api/x', 'double_encoded'], // its unreserved escapes decoded, it is %252e%252e (hostile finding F1)
  ['/a/%25%32%46b', 'double_encoded'],
  ['/api%252Fx', 'double_encoded'],
  ['/api%255cx', 'double_encoded'],
  ['/a%zz', 'bad_escape'],
  ['/a%4', 'bad_escape'],
  ['/a%', 'bad_escape'],
  ['/healthz#/../api/x', 'fragment'],
  // RFC 9112 section 3.2: a request target has no fragment, in the query neither (`#` is no query character).
  ['/api/x?a=1#b', 'fragment'],
  ['/healthz/../api/x?a=1#b', 'fragment'],
  ['/api?#', 'fragment'],
  ['api/x', 'bad_target'],
  ['*', 'bad_target'],
  // Escaped bytes that are not UTF-8: an overlong `.` or `/` is one to a lax decoder (old IIS, Java's modified UTF-8).
  ['/api/%c0%ae%c0%ae/admin/x', 'bad_utf8'],
  ['/api/%e0%80%ae%e0%80%ae/admin/x', 'bad_utf8'],
  ['/api/%c0%afadmin', 'bad_utf8'],
  ['/api/%C0%80', 'bad_utf8'],
  ['/a%c3', 'bad_utf8'],
  ['/a%c3/b', 'bad_utf8'],
  ['/a%ed%a0%80', 'bad_utf8'],
  ['/a%ff', 'bad_utf8'],
  // Characters that Unicode compatibility normalization (NFKC) makes path syntax: `..`, `/`, `\`, `%`.
  ['/api/%ef%bc%8e%ef%bc%8e/admin/x', 'unicode_path_char'],
  ['/api/%E2%80%A5/admin/x', 'unicode_path_char'],
  ['/api/%EF%BC%8Fadmin', 'unicode_path_char'],
  ['/api/%EF%BC%BCadmin', 'unicode_path_char'],
  ['/api/a%EF%BC%852e', 'unicode_path_char'],
  ['/api/\uff0e\uff0e/admin', 'unicode_path_char'],
];

describe('canonicalTarget', () => {
  it.each(same)('%s is canonical already: kept as is', (p) => {
    expect(canonicalTarget(p)).toEqual({ ok: true, path: p, target: p });
  });

  it.each(canonical)('%s is %s', (p, want) => {
    const c = canonicalTarget(p);
    expect(c).toEqual({ ok: true, path: want, target: want });
  });

  it.each(refused)('%s is refused: %s', (p, reason) => {
    const c = canonicalTarget(p);
    expect(c.ok).toBe(false);
    if (!c.ok) {
      expect(c.reason).toBe(reason);
      expect(c.detail.length).toBeGreaterThan(10);
    }
  });

  it('keeps the query string byte for byte, whatever it holds but a fragment', () => {
    expect(canonicalTarget('/healthz/../api/x?a=%2F..%2f&b=/../%23c')).toEqual({ ok: true, path: '/api/x', target: '/api/x?a=%2F..%2f&b=/../%23c' });
    expect(canonicalTarget('/api?')).toEqual({ ok: true, path: '/api', target: '/api?' });
    expect(canonicalTarget('//?x')).toEqual({ ok: true, path: '/', target: '/?x' });
  });

  it('is a fixed point: the canonical form of a canonical form is itself', () => {
    for (const [p] of [...canonical, ...same.map((s) => [s])]) {
      const c = canonicalTarget(p);
      if (c.ok) expect(canonicalTarget(c.path)).toEqual({ ok: true, path: c.path, target: c.path });
    }
  });

  it('an upstream normalising with WHATWG URL reads every canonical form as it is', () => {
    for (const [p] of [...canonical, ...same.map((s) => [s])]) {
      const c = canonicalTarget(p);
      if (c.ok) expect(new URL(c.path, 'http://x').pathname).toBe(c.path);
    }
  });
});

describe('withoutParams', () => {
  it.each([
    ['/api;jsessionid=1/x', '/api/x'],
    ['/api/x;v=2', '/api/x'],
    ['/a;x/b;y/c', '/a/b/c'],
    ['/;x/api', '/api'],
    ['/api;x', '/api'],
    ['/api', '/api'],
    ['/a%3Bb', '/a%3Bb'],
  ])('%s is %s to a server that drops segment parameters', (p, want) => {
    expect(withoutParams(p)).toBe(want);
  });
});

describe('route paths', () => {
  const config = (path: string): unknown => ({ upstreams: { app: { url: 'http://127.0.0.1:1' } }, routes: [{ path }] });
  const issues = (path: string): string[] => {
    try {
      resolveConfig(config(path));
      return [];
    } catch (err) {
      return (err as GatewayConfigError).issues.map((i) => `${i.path}: expected ${i.expected}, found ${i.found}`);
    }
  };

  it('must be canonical (requests are routed on their canonical path): the error names the canonical form', () => {
    expect(issues('/api/')).toEqual([]);
    expect(issues('/api/x')).toEqual([]);
    expect(issues('/%61pi')).toEqual(['routes[0].path: expected a canonical path (requests are routed on theirs): here "/api", found "/%61pi"']);
    expect(issues('/a//b')).toEqual(['routes[0].path: expected a canonical path (requests are routed on theirs): here "/a/b", found "/a//b"']);
    expect(issues('/x/../api')).toEqual(['routes[0].path: expected a canonical path (requests are routed on theirs): here "/api", found "/x/../api"']);
    expect(issues('/a%2fb')).toEqual(['routes[0].path: expected a canonical path (no query, "..", backslash, encoded slash or control character), found "/a%2fb"']);
    expect(issues('/api?x=1')).toHaveLength(1);
  });

  it('one trailing slash is the prefix itself; an empty segment at the end is not canonical (`//` was taken for `/` without a word until gateway-edges)', () => {
    expect(issues('/')).toEqual([]);
    expect(issues('//')).toEqual(['routes[0].path: expected a canonical path (requests are routed on theirs): here "/", found "//"']);
    expect(issues('/api//')).toEqual(['routes[0].path: expected a canonical path (requests are routed on theirs): here "/api", found "/api//"']);
    expect(issues('/api///')).toEqual(['routes[0].path: expected a canonical path (requests are routed on theirs): here "/api", found "/api///"']);
    expect(issues('//api/')).toEqual(['routes[0].path: expected a canonical path (requests are routed on theirs): here "/api", found "//api/"']);
    expect(resolveConfig(config('/api/')).routes[0]!.path).toBe('/api');
  });
});

describe('withoutTrailingDotsAndSpaces (hostile-3 H4)', () => {
  it('drops each segment\'s trailing dots and escaped spaces, as IIS and token-trimming matchers read a path', () => {
    const c = (t: string): string | undefined => {
      const r = canonicalTarget(t);
      return r.ok ? withoutTrailingDotsAndSpaces(r.path) : `refused ${r.reason}`;
    };
    expect(c('/api./x')).toBe('/api/x');
    expect(c('/api%20/x')).toBe('/api/x');
    expect(c('/api%2e%20./x')).toBe('/api/x');
    expect(c('/%20/api/x')).toBe('/api/x');
    expect(c('/api...')).toBe('/api');
    expect(c('/a.b/c')).toBeUndefined();
    expect(c('/api/x')).toBeUndefined();
    expect(c('/a%20b/c')).toBeUndefined();
  });
});
