// sluice/rate's policy readers (algorithmOf, capacityOf, windowOf) on what is not a policy:
// each names the argument, not a TypeError ("Cannot read properties of undefined (reading
// 'algorithm')"), undefined or NaN. A valid policy, from ratePolicy() or written by hand, reads
// as before.
import { describe, expect, it } from 'vitest';
import { algorithmOf, capacityOf, gcra, ratePolicy, slidingWindow, tokenBucket, windowOf } from '../../src/rate/index.js';
import type { RatePolicy } from '../../src/rate/index.js';
import { InvalidOptionError } from '../../src/core/index.js';

const loose = (v: unknown): RatePolicy => v as RatePolicy;
const readers = { algorithmOf, capacityOf, windowOf } as const;

const BAD: readonly [string, unknown, string][] = [
  ['undefined', undefined, 'policy: expected a rate policy object, received undefined'],
  ['null', null, 'policy: expected a rate policy object, received null'],
  ['a number', 42, 'policy: expected a rate policy object, received 42'],
  ['a string', '30d', 'policy: expected a rate policy object, received "30d"'],
  ['{}', {}, 'policy.algorithm: expected one of "token-bucket", "gcra", "sliding-window", received undefined'],
  ['an unknown algorithm', { algorithm: 'leaky', rate: 1 }, 'policy.algorithm: expected one of "token-bucket", "gcra", "sliding-window", received "leaky"'],
  ['a NaN rate', { algorithm: 'token-bucket', name: 'x', rate: NaN, perMs: 1000, burst: 1 }, 'policy.rate: expected a finite number > 0, received NaN'],
  ['an Infinity burst', { algorithm: 'gcra', name: 'x', rate: 1, perMs: 1000, burst: Infinity }, 'policy.burst: expected a finite number >= 1, received Infinity'],
  ['a negative window', { algorithm: 'sliding-window', name: 'x', limit: 5, windowMs: -1 }, 'policy.windowMs: expected a number in (0, 2147483647000], received -1'],
  ['a window without its limit', { algorithm: 'sliding-window', name: 'x', windowMs: 1000 }, 'policy.limit: expected a finite number >= 1, received undefined'],
];

describe.each(Object.entries(readers))('%s on what is not a policy', (_name, read) => {
  it.each(BAD)('%s', (_label, value, message) => {
    expect(() => read(loose(value))).toThrow(InvalidOptionError);
    expect(() => read(loose(value))).toThrow(message);
  });
});

describe('the readers on valid policies, as before', () => {
  const bucket = ratePolicy({ algorithm: 'token-bucket', rate: 10, perMs: 1000, burst: 20 });
  const byHand = loose({ algorithm: 'gcra', name: 'g', rate: 5, perMs: 1000, burst: 5 });
  const windowed = ratePolicy({ algorithm: 'sliding-window', limit: 100, windowMs: 60_000 });
  it.each([
    ['a token bucket', bucket, tokenBucket, 20, 2000],
    ['a GCRA policy written by hand', byHand, gcra, 5, 1000],
    ['a sliding window', windowed, slidingWindow, 100, 60_000],
  ] as const)('%s', (_label, policy, algorithm, capacity, window) => {
    expect(algorithmOf(policy)).toBe(algorithm);
    expect(capacityOf(policy)).toBe(capacity);
    expect(windowOf(policy)).toBe(window);
  });
});
