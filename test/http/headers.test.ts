import { describe, expect, it } from 'vitest';
import type { PolicyFacts } from '../../src/core/index.js';
// The unchecked functions the adapters call: total on whatever a gate built elsewhere reports
// (a negative remaining, a NaN retry). sluice/http exports checked ones (test/http/helper-args).
import { problem, statusOf } from '../../src/http/problem.js';
import { deltaSeconds, limitItem, policyItem, rateLimitHeaders, retryAfterSeconds, sfString } from '../../src/http/ratelimit-headers.js';
import { REJECTION_REASONS } from '../../src/core/index.js';

const facts = (policy: string, limit: number, remaining: number, windowS: number, resetS: number): PolicyFacts => ({
  policy,
  limit,
  remaining,
  windowMs: windowS * 1000,
  resetMs: resetS * 1000,
});

/** RFC 9110 section 10.2.3 / 5.6.7: delay-seconds = 1*DIGIT. */
const DELAY_SECONDS = /^[0-9]+$/;
/** A list of service-limit items (draft-11 section 4) as sluice writes them. */
const LIMIT_LIST = /^"[\x20-\x7e]*";r=[0-9]+;t=[0-9]+(, "[\x20-\x7e]*";r=[0-9]+;t=[0-9]+)*$/;
const POLICY_LIST = /^"[\x20-\x7e]*";q=[0-9]+;w=[1-9][0-9]*(, "[\x20-\x7e]*";q=[0-9]+;w=[1-9][0-9]*)*$/;

describe('RateLimit fields (draft-ietf-httpapi-ratelimit-headers-11)', () => {
  it('writes the draft examples', () => {
    // Section 3.2: RateLimit-Policy: "default";q=100;w=10
    expect(policyItem(facts('default', 100, 50, 10, 30))).toBe('"default";q=100;w=10');
    // Section 4.2: RateLimit: "default";r=50;t=30
    expect(limitItem(facts('default', 100, 50, 10, 30))).toBe('"default";r=50;t=30');
    // Section 3.2: "permin";q=50;w=60,"perhr";q=1000;w=3600 (SF lists serialise with ", ").
    const [policy, limit] = rateLimitHeaders('draft', [facts('permin', 50, 49, 60, 2), facts('perhr', 1000, 999, 3600, 4)]);
    expect(policy).toEqual(['RateLimit-Policy', '"permin";q=50;w=60, "perhr";q=1000;w=3600']);
    expect(limit).toEqual(['RateLimit', '"permin";r=49;t=2, "perhr";r=999;t=4']);
    // Appendix B.3.1: "hour";q=1000;w=3600, "day";q=5000;w=86400 with "day";r=100;t=36000
    expect(rateLimitHeaders('draft', [facts('day', 5000, 100, 86400, 36000)])[1]).toEqual(['RateLimit', '"day";r=100;t=36000']);
  });

  it('writes integers only: floors quota and remaining, ceils windows and resets, w at least 1, q the quota over that w', () => {
    const f: PolicyFacts = { policy: 'p', limit: 2.5, remaining: 0.97, windowMs: 400, resetMs: 1001 };
    // 2.5 per 400 ms is 6.25 per second.
    expect(policyItem(f)).toBe('"p";q=6;w=1');
    expect(limitItem(f)).toBe('"p";r=0;t=2');
    const neg: PolicyFacts = { policy: 'p', limit: 10, remaining: -3, windowMs: 1e300, resetMs: Infinity };
    expect(limitItem(neg)).toMatch(LIMIT_LIST);
    expect(policyItem(neg)).toMatch(POLICY_LIST);
  });

  it("states a window that is not whole seconds at its rate: a token bucket's burst / rate", () => {
    // 2000/s with a burst of 100: the bucket's window is 50 ms. q=100;w=1 said 100 per second, a twentieth of the limit.
    expect(policyItem({ policy: 'b', limit: 100, remaining: 99, windowMs: 50, resetMs: 1 })).toBe('"b";q=2000;w=1');
    // 2/s with a burst of 3: 1.5 s, written w=2 with the 4 units of those 2 s (not 3 per 2 s).
    expect(policyItem({ policy: 'c', limit: 3, remaining: 3, windowMs: 1500, resetMs: 0 })).toBe('"c";q=4;w=2');
    // Whole seconds are written as they are, however large.
    expect(policyItem({ policy: 'd', limit: 999_999_999, remaining: 0, windowMs: 604_800_000, resetMs: 0 })).toBe('"d";q=999999999;w=604800');
    expect(policyItem({ policy: 'e', limit: 7, remaining: 0, windowMs: 3_000, resetMs: 0 })).toBe('"e";q=7;w=3');
  });

  it('escapes policy names as Structured Field Strings', () => {
    expect(sfString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(sfString('é\n')).toBe('"__"');
  });

  it('has legacy and X- forms for the tightest policy, and none', () => {
    const list = [facts('burst', 10, 9, 10, 1), facts('daily', 1000, 20, 86400, 5000)];
    expect(rateLimitHeaders('legacy', list)).toEqual([
      ['RateLimit-Limit', '1000'],
      ['RateLimit-Remaining', '20'],
      ['RateLimit-Reset', '5000'],
    ]);
    expect(rateLimitHeaders('x', list).map(([n]) => n)).toEqual(['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset']);
    expect(rateLimitHeaders('none', list)).toEqual([]);
    expect(rateLimitHeaders('draft', [])).toEqual([]);
  });

  it('reports a refused policy with t = its retry time', () => {
    const list = [facts('burst', 10, 0.4, 10, 9)];
    expect(rateLimitHeaders('draft', list, { index: 0, seconds: 1 })[1]).toEqual(['RateLimit', '"burst";r=0;t=1']);
    expect(rateLimitHeaders('x', list, { index: 0, seconds: 1 })[2]).toEqual(['X-RateLimit-Reset', '1']);
  });
});

describe('Retry-After (RFC 9110 delay-seconds)', () => {
  it('is the ceiling of retryAfterMs in whole seconds', () => {
    expect(deltaSeconds(1)).toBe(1);
    expect(deltaSeconds(1000)).toBe(1);
    expect(deltaSeconds(1001)).toBe(2);
    expect(deltaSeconds(0)).toBe(0);
    expect(deltaSeconds(-5)).toBe(0);
    expect(deltaSeconds(NaN)).toBe(0);
    for (const ms of [0, 1, 999, 1000, 1e6, 1e300, Number.MAX_VALUE]) expect(String(retryAfterSeconds(ms, []))).toMatch(DELAY_SECONDS);
  });

  it('is absent when retrying cannot help', () => {
    expect(retryAfterSeconds(Infinity, [])).toBeUndefined();
    expect(retryAfterSeconds(NaN, [])).toBeUndefined();
  });

  it('is never earlier than the t of an exhausted policy', () => {
    const list = [facts('burst', 10, 0, 10, 7), facts('daily', 100, 50, 86400, 80000)];
    expect(retryAfterSeconds(1200, list)).toBe(7);
    expect(retryAfterSeconds(1200, list, { index: 0, seconds: 2 })).toBe(2);
    expect(retryAfterSeconds(9000, list)).toBe(9);
  });
});

describe('problem details (RFC 9457)', () => {
  it('maps every reason to 429 or 503 with the draft problem types', () => {
    for (const reason of REJECTION_REASONS) {
      const p = problem(reason, [], 3);
      expect(p.status).toBe(statusOf(reason));
      expect(p.status === 429).toBe(reason === 'rate_limited' || reason === 'quota');
      expect(p.type).toBe(p.status === 429 ? 'https://iana.org/assignments/http-problem-types#quota-exceeded' : 'https://iana.org/assignments/http-problem-types#temporary-reduced-capacity');
      expect(p).toMatchObject({ reason, 'retry-after': 3 });
    }
    expect(problem('quota', ['daily'], undefined)).toMatchObject({ 'violated-policies': ['daily'] });
    expect(problem('quota', ['daily'], undefined)).not.toHaveProperty('retry-after');
  });
});
