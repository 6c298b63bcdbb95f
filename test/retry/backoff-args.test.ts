// backoffDelay (sluice/retry) on bad arguments: an unknown jitter returned undefined, a NaN or
// a string made the sleep NaN. Each is named now; valid arguments give the same delays.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/core/index.js';
import { backoffDelay } from '../../src/retry/index.js';
import type { Jitter } from '../../src/retry/index.js';

const loose = <T>(v: unknown): T => v as T;
const half = (): number => 0.5;

describe('backoffDelay names a bad argument', () => {
  it.each([
    ['jitter unknown', () => backoffDelay(loose<Jitter>('exponential'), 1, 100, 100, 1000, half), 'jitter: expected one of "none", "full", "equal", "decorrelated", received "exponential"'],
    ['jitter undefined', () => backoffDelay(loose<Jitter>(undefined), 1, 100, 100, 1000, half), 'jitter: expected one of "none", "full", "equal", "decorrelated", received undefined'],
    ['retry 0', () => backoffDelay('full', 0, 100, 100, 1000, half), 'retry: expected an integer in [1, 9007199254740991], received 0'],
    ['retry NaN', () => backoffDelay('full', NaN, 100, 100, 1000, half), 'retry: expected an integer in [1, 9007199254740991], received NaN'],
    ['previousMs -1', () => backoffDelay('decorrelated', 2, -1, 100, 1000, half), 'previousMs: expected a number >= 0, received -1'],
    ['baseMs "30d"', () => backoffDelay('none', 1, 0, loose('30d'), 1000, half), 'baseMs: expected a number >= 0, received "30d"'],
    ['capMs NaN', () => backoffDelay('none', 1, 0, 100, NaN, half), 'capMs: expected a number >= 0, received NaN'],
    ['random not a function', () => backoffDelay('full', 1, 0, 100, 1000, loose(0.5)), 'random: expected a function returning a number in [0, 1), received 0.5'],
  ] as const)('%s', (_label, call, message) => {
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(message);
  });

  it('gives the same delays for valid arguments', () => {
    expect([1, 2, 3, 5].map((n) => backoffDelay('none', n, 0, 100, 1000, half))).toEqual([100, 200, 400, 1000]);
    expect(backoffDelay('full', 2, 0, 100, 1000, half)).toBe(100);
    expect(backoffDelay('equal', 2, 0, 100, 1000, half)).toBe(150);
    expect(backoffDelay('decorrelated', 2, 100, 100, 1000, half)).toBe(200);
    expect(backoffDelay('none', 40, 0, 100, Infinity, half)).toBe(100 * 2 ** 39);
  });
});
