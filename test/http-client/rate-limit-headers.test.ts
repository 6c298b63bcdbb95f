import { describe, expect, it } from 'vitest';
import { parseRateLimit, parseRateLimitPolicy, readRateLimit } from '../../src/http-client/index.js';
import { parseList } from '../../src/http-client/structured-field.js';

const h = (fields: Record<string, string>): Headers => new Headers(fields);

describe('RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers-10)', () => {
  it("reads the draft's policy examples", () => {
    expect(parseRateLimitPolicy('"default";q=100;w=10')).toEqual([{ name: 'default', quota: 100, windowMs: 10_000, unit: 'requests' }]);
    expect(parseRateLimitPolicy('"permin";q=50;w=60,"perhr";q=1000;w=3600')).toEqual([
      { name: 'permin', quota: 50, windowMs: 60_000, unit: 'requests' },
      { name: 'perhr', quota: 1000, windowMs: 3_600_000, unit: 'requests' },
    ]);
    expect(parseRateLimitPolicy('"peruser";q=100;w=60;pk=:cHsdsRa894==:')).toEqual([{ name: 'peruser', quota: 100, windowMs: 60_000, unit: 'requests' }]);
    expect(parseRateLimitPolicy('"peruser";q=65535;qu="content-bytes";w=10;pk=:sdfjLJUOUH==:')).toEqual([
      { name: 'peruser', quota: 65535, windowMs: 10_000, unit: 'content-bytes' },
    ]);
  });

  it("reads the draft's service limit examples, joined with their policy by name", () => {
    expect(parseRateLimit('"default";r=50;t=30')).toEqual([
      { policy: 'default', remaining: 50, resetMs: 30_000, limit: undefined, windowMs: undefined, unit: 'requests', source: 'draft' },
    ]);
    expect(parseRateLimit('"default";r=999;pk=:dHJpYWwxMjEzMjM=:')[0]).toMatchObject({ remaining: 999, resetMs: undefined });
    const policies = parseRateLimitPolicy('"burst";q=100;w=60,"daily";q=1000;w=86400');
    expect(parseRateLimit('"burst";r=3;t=7, "daily";r=900;t=3600', policies)).toEqual([
      { policy: 'burst', remaining: 3, resetMs: 7_000, limit: 100, windowMs: 60_000, unit: 'requests', source: 'draft' },
      { policy: 'daily', remaining: 900, resetMs: 3_600_000, limit: 1000, windowMs: 86_400_000, unit: 'requests', source: 'draft' },
    ]);
  });

  it('ignores a malformed field as a whole, and items without a valid r', () => {
    for (const bad of ['"a";r=1,', '"a";r=1;;', '"a";r=1 "b"', '"unterminated;r=1', '"a";R=1', '"a";r=1,,"b";r=2', '"a";r=1.', '"a";r=1234567890123456']) {
      expect(parseRateLimit(bad), bad).toEqual([]);
    }
    expect(parseRateLimit('"a";r=-1, "b";r=1.5, "c";t=3, "d";r=2;t=-1, "e";r=4')).toEqual([expect.objectContaining({ policy: 'e', remaining: 4 })]);
    expect(parseRateLimitPolicy('"a";w=10, "b";q=5;w=0, "c";q=1;w=1')).toEqual([expect.objectContaining({ name: 'c' })]);
    expect(parseRateLimit(undefined)).toEqual([]);
    expect(parseRateLimit('')).toEqual([]);
  });

  it('parses structured field lists per RFC 9651 (tokens, strings with escapes, inner lists, booleans)', () => {
    const items = parseList('tok;a=?1;b="x\\"y", (1 2);z, @1700000000, :aGk=:')!;
    expect(items).toHaveLength(4);
    expect(items[0]!.params.get('a')).toBe(true);
    expect(items[0]!.params.get('b')).toBe('x"y');
    expect(parseList('"a" "b"')).toBeUndefined();
    expect(parseRateLimit('default;r=5;t=1')[0]).toMatchObject({ policy: 'default', remaining: 5 }); // a token names a policy too
  });

  it('falls back to RateLimit-Remaining/Reset, then X-RateLimit-*', () => {
    expect(readRateLimit(h({ 'ratelimit-limit': '100, 100;w=60', 'ratelimit-remaining': '0', 'ratelimit-reset': '7' }))).toEqual([
      { policy: '', remaining: 0, resetMs: 7_000, limit: 100, windowMs: undefined, unit: 'requests', source: 'ratelimit-legacy' },
    ]);
    expect(readRateLimit(h({ 'x-ratelimit-limit': '60', 'x-ratelimit-remaining': '12', 'x-ratelimit-reset': '30' }))[0]).toMatchObject({ remaining: 12, resetMs: 30_000, source: 'x-ratelimit' });
    // GitHub style: epoch seconds.
    const now = Date.UTC(2025, 0, 1);
    expect(readRateLimit(h({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 42) }), now)[0]).toMatchObject({ remaining: 0, resetMs: 42_000 });
    // The draft wins when present and valid; a malformed draft field falls through to the older forms.
    expect(readRateLimit(h({ ratelimit: '"d";r=9;t=1', 'ratelimit-remaining': '1' }))[0]).toMatchObject({ policy: 'd', remaining: 9 });
    expect(readRateLimit(h({ ratelimit: 'garbage;;', 'x-ratelimit-remaining': '1' }))[0]).toMatchObject({ source: 'x-ratelimit', remaining: 1 });
    expect(readRateLimit(h({ 'x-ratelimit-remaining': 'lots' }))).toEqual([]);
    expect(readRateLimit(h({}))).toEqual([]);
  });
});
