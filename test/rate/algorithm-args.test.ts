// sluice/rate's algorithm objects (tokenBucket, gcra, slidingWindow, and what algorithmOf gives)
// on bad arguments: a cost that is not a number >= 1 ('30d', 0, -1, NaN), a policy that is not a
// valid one of their own algorithm ({ rate: '1000/s' }, a limit of '10/0s', 1e309), a state that is
// not theirs, a clock reading that is not a finite number — each named with an error, where they
// metered it: a cost of -1 was admitted and minted a unit (remaining 6 of a burst of 5), NaN and
// '30d' were admitted and emptied the bucket, a policy of '1000/s' reported a window of NaN.
// The stores call the unchecked objects per request (their arguments are trusted: RateStore).
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidOptionError, SluiceError } from '../../src/core/index.js';
import { algorithmOf, gcra, ratePolicy, slidingWindow, tokenBucket } from '../../src/rate/index.js';
import type { AnyRateAlgorithm, RatePolicy } from '../../src/rate/index.js';

const loose = <T>(v: unknown): T => v as T;
const POLICIES: readonly [string, AnyRateAlgorithm, RatePolicy][] = [
  ['tokenBucket', loose(tokenBucket), ratePolicy({ algorithm: 'token-bucket', rate: 10, burst: 5 })],
  ['gcra', loose(gcra), ratePolicy({ algorithm: 'gcra', rate: 10, burst: 5 })],
  ['slidingWindow', loose(slidingWindow), ratePolicy({ algorithm: 'sliding-window', limit: 5, windowMs: 1000 })],
];
const BAD_NUMBERS: readonly unknown[] = ['30d', '1000/s', 0, -1, NaN, '10/0s'];

describe.each(POLICIES)('%s names a bad argument', (name, alg, policy) => {
  const fresh = (): object => alg.fresh(policy, 0);

  it.each(BAD_NUMBERS.map((c) => [c]))('step with cost %s', (cost) => {
    const state = fresh();
    const before = JSON.stringify(state);
    const call = (): unknown => alg.step(state, policy, loose(cost), 0, 0);
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(/^cost: expected a number >= 1, received /);
    expect(JSON.stringify(state)).toBe(before);
  });

  it.each(BAD_NUMBERS.map((c) => [c]))('refund with cost %s', (cost) => {
    expect(() => alg.refund(fresh(), policy, loose(cost), 0)).toThrow(/^cost: expected a number >= 1, received /);
  });

  it.each([['30d'], [NaN], [Infinity], [1e309], [undefined]])('a clock reading of %s', (now) => {
    const message = /^now: expected a finite number \(clock ms\), received /;
    expect(() => alg.fresh(policy, loose(now))).toThrow(message);
    expect(() => alg.step(fresh(), policy, 1, loose(now), 0)).toThrow(message);
    expect(() => alg.available(fresh(), policy, loose(now))).toThrow(message);
    expect(() => alg.refund(fresh(), policy, 1, loose(now))).toThrow(message);
    expect(() => alg.cover(fresh(), fresh(), policy, loose(now))).toThrow(message);
  });

  it('maxDelayMs that is not a number >= 0', () => {
    for (const d of [-1, NaN, '1s']) expect(() => alg.step(fresh(), policy, 1, 0, loose(d))).toThrow(/^maxDelayMs: expected a number >= 0, received /);
  });

  it('a policy ratePolicy() would refuse', () => {
    const field = policy.algorithm === 'sliding-window' ? 'limit' : 'rate';
    for (const v of BAD_NUMBERS) {
      const bad = loose<RatePolicy>({ ...policy, [field]: v });
      for (const call of [() => alg.fresh(bad, 0), () => alg.step(fresh(), bad, 1, 0, 0), () => alg.idleAt(fresh(), bad), () => alg.rank(fresh(), bad)]) {
        expect(call).toThrow(InvalidOptionError);
        expect(call).toThrow(`policy.${field}: expected`);
      }
    }
    expect(() => alg.step(fresh(), loose({ ...policy, [field]: 1e309 }), 1, 0, 0)).toThrow(`policy.${field}: expected a finite number`);
    expect(() => alg.step(fresh(), loose(undefined), 1, 0, 0)).toThrow('policy: expected a rate policy object, received undefined');
  });

  it("another algorithm's policy", () => {
    const other = POLICIES.find(([n]) => n !== name)![2];
    const call = (): unknown => alg.step(fresh(), other, 1, 0, 0);
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(`policy.algorithm: expected "${policy.algorithm}" (algorithmOf(policy) gives a policy's own), received "${other.algorithm}"`);
  });

  it('a state that is not one of its own', () => {
    const other = POLICIES.find(([n]) => n !== name)!;
    for (const s of [undefined, null, 5, {}, other[1].fresh(other[2], 0), { ...fresh(), [Object.keys(fresh())[0]!]: 'x' }]) {
      for (const call of [() => alg.step(loose(s), policy, 1, 0, 0), () => alg.available(loose(s), policy, 0), () => alg.idleAt(loose(s), policy), () => alg.cover(fresh(), loose(s), policy, 0)]) {
        expect(call).toThrow(InvalidArgumentError);
        expect(call).toThrow(new RegExp(`^(state|other): expected a ${policy.algorithm} state \\(what ${name}.fresh\\(\\) returns\\), received `));
      }
    }
    expect(alg.isState(loose(undefined))).toBe(false);
    expect(alg.isState(loose(5))).toBe(false);
  });
});

describe('algorithmOf gives the checked algorithm', () => {
  it.each(POLICIES)('%s', (_name, alg, policy) => {
    const got = algorithmOf(policy);
    expect(got).toBe(alg);
    expect(() => got.step(got.fresh(policy, 0), policy, -1, 0, 0)).toThrow(SluiceError);
  });
});

describe('valid calls meter as before', () => {
  it.each(POLICIES)('%s', (_name, alg, policy) => {
    const s = alg.fresh(policy, 0);
    expect(alg.isState(s)).toBe(true);
    const first = alg.step(s, policy, 2, 0, 0);
    expect(first.allowed).toBe(true);
    expect(first.facts.remaining).toBe(3);
    expect(alg.step(s, policy, 4, 0, 0)).toMatchObject({ allowed: false });
    expect(alg.step(s, policy, 6, 0, 0).retryAfterMs).toBe(Infinity);
    alg.refund(s, policy, 2, 0);
    expect(alg.available(s, policy, 0)).toBe(5);
    expect(alg.idleAt(s, policy)).toBeGreaterThanOrEqual(0);
    const used = alg.fresh(policy, 0);
    alg.step(used, policy, 5, 0, 0);
    alg.cover(s, used, policy, 0);
    expect(alg.step(s, policy, 1, 0, 0).allowed).toBe(false);
    // A bucket reserves for a caller that may wait; a window refuses a wait past its window.
    expect(alg.step(s, policy, 1, 0, Infinity).allowed).toBe(policy.algorithm !== 'sliding-window');
    expect(typeof alg.rank(s, policy)).toBe('number');
  });
});
