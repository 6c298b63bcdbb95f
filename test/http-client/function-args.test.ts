// sluice/client's exported readers on bad arguments: readRateLimit and isIdempotent name the
// argument (an InvalidArgumentError) instead of "headers.get is not a function" or reading an
// epoch reset against NaN. Valid calls answer as before.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/index.js';
import { isIdempotent, readRateLimit } from '../../src/http-client/index.js';
import type { HeadersLike } from '../../src/http-client/index.js';

const loose = <T>(v: unknown): T => v as T;
const HEADERS = "headers: expected headers with get(name) (a fetch Response's headers), received";

const CASES: readonly [string, () => unknown, string][] = [
  ['readRateLimit(undefined)', () => readRateLimit(loose(undefined)), `${HEADERS} undefined`],
  ['readRateLimit(null)', () => readRateLimit(loose(null)), `${HEADERS} null`],
  ['readRateLimit({})', () => readRateLimit(loose({})), `${HEADERS} an object`],
  ['readRateLimit("x-ratelimit")', () => readRateLimit(loose('x-ratelimit')), `${HEADERS} "x-ratelimit"`],
  ['readRateLimit(headers, NaN)', () => readRateLimit(new Headers(), NaN), 'nowEpochMs: expected a finite number >= 0, received NaN'],
  ['readRateLimit(headers, Infinity)', () => readRateLimit(new Headers(), Infinity), 'nowEpochMs: expected a finite number >= 0, received Infinity'],
  ['readRateLimit(headers, "30d")', () => readRateLimit(new Headers(), loose('30d')), 'nowEpochMs: expected a finite number >= 0, received "30d"'],
  ['readRateLimit(headers, -1)', () => readRateLimit(new Headers(), -1), 'nowEpochMs: expected a finite number >= 0, received -1'],
  ['isIdempotent(undefined, headers)', () => isIdempotent(loose(undefined), new Headers()), 'method: expected an HTTP method (a string), received undefined'],
  ['isIdempotent(42, headers)', () => isIdempotent(loose(42), new Headers()), 'method: expected an HTTP method (a string), received 42'],
  ['isIdempotent("POST", undefined)', () => isIdempotent('POST', loose(undefined)), 'headers: expected request headers (a fetch Headers), received undefined'],
  ['isIdempotent("POST", {})', () => isIdempotent('POST', loose({})), 'headers: expected request headers (a fetch Headers), received an object'],
];

describe('client readers name a bad argument', () => {
  it.each(CASES)('%s', (_label, call, message) => {
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(message);
  });
});

describe('valid calls answer as before', () => {
  it('readRateLimit: any object with get(), the clock defaulted or given', () => {
    const map = new Map([['x-ratelimit-remaining', '3'], ['x-ratelimit-reset', '1700000060']]);
    const like: HeadersLike = { get: (name) => map.get(name) ?? null };
    expect(readRateLimit(like, 1_700_000_000_000)).toEqual([{ policy: '', remaining: 3, resetMs: 60_000, limit: undefined, windowMs: undefined, unit: 'requests', source: 'x-ratelimit' }]);
    expect(readRateLimit(new Headers())).toEqual([]);
  });
  it('isIdempotent', () => {
    expect(isIdempotent('get', new Headers())).toBe(true);
    expect(isIdempotent('POST', new Headers())).toBe(false);
    expect(isIdempotent('POST', new Headers({ 'Idempotency-Key': 'k' }))).toBe(true);
  });
});
