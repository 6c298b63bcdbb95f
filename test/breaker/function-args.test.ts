// sluice/breaker's exported functions on bad arguments: anyOf() given what is not a trip rule
// (it built a rule that broke at the breaker's first call, or read slowCallMs as NaN), and
// openDuration() given NaN or a string (a NaN open time: a breaker that never reopens).
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidOptionError } from '../../src/core/index.js';
import { anyOf, CircuitBreaker, consecutiveFailures, countWindow, openDuration } from '../../src/breaker/index.js';
import type { TripRule } from '../../src/breaker/index.js';

const loose = <T>(v: unknown): T => v as T;
const RULE = 'a trip rule (consecutiveFailures(), countWindow(), timeWindow(), anyOf())';

describe('anyOf names a rule that is not one', () => {
  it.each([
    ['undefined', [undefined], `rules[0]: expected ${RULE}, received undefined`],
    ['{}', [{}], `rules[0]: expected ${RULE}, received an object`],
    ['a name after a rule', [consecutiveFailures(), 'count-window'], `rules[1]: expected ${RULE}, received "count-window"`],
    ['a rule without tally', [{ timing: 'none', record: () => false, initial: () => 0 }], `rules[0]: expected ${RULE}, received an object`],
  ] as const)('%s', (_label, rules, message) => {
    const call = (): unknown => anyOf(...loose<TripRule[]>(rules));
    expect(call).toThrow(InvalidOptionError);
    expect(call).toThrow(message);
  });

  it('a breaker refuses a rule without initial() or tally() too', () => {
    expect(() => new CircuitBreaker({ rule: loose({ timing: 'none', record: () => false }) })).toThrow(`rule: expected ${RULE}, received an object`);
  });

  it('combines real rules as before', () => {
    const r = anyOf(consecutiveFailures({ threshold: 3 }), countWindow({ size: 10 }));
    expect([r.name, r.timing]).toEqual(['any-of', 'none']);
    expect(new CircuitBreaker({ rule: r }).state).toBe('closed');
  });
});

describe('openDuration names a bad argument', () => {
  it.each([
    ['n NaN', () => openDuration(NaN, 1000, 2, 8000), 'n: expected an integer in [0, 9007199254740991], received NaN'],
    ['n 1.5', () => openDuration(1.5, 1000, 2, 8000), 'n: expected an integer in [0, 9007199254740991], received 1.5'],
    ['openMs "30d"', () => openDuration(2, loose('30d'), 2, 8000), 'openMs: expected a number >= 0, received "30d"'],
    ['openBackoff 0.5', () => openDuration(2, 1000, 0.5, 8000), 'openBackoff: expected a number >= 1, received 0.5'],
    ['maxOpenMs undefined', () => openDuration(2, 1000, 2, loose(undefined)), 'maxOpenMs: expected a number >= 0, received undefined'],
  ] as const)('%s', (_label, call, message) => {
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(message);
  });

  it('computes as before', () => {
    expect([1, 2, 3, 4, 5].map((n) => openDuration(n, 1000, 2, 8000))).toEqual([1000, 2000, 4000, 8000, 8000]);
    expect(openDuration(0, 1000, 1, Infinity)).toBe(1000);
  });
});
