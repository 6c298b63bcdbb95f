// Factories and constructors that read an options object refuse a key they do not know,
// as every other public constructor does (src/core/option-keys.ts). Before, these took a
// misspelt or foreign option in silence and used the default: countWindow({ minCalls: 5 })
// (Resilience4j's name is minimumNumberOfCalls, ours minimumCalls) trips after the default 20
// calls, not 5.
import { describe, expect, it } from 'vitest';
import { consecutiveFailures, countWindow, timeWindow } from '../../src/breaker/index.js';
import { InvalidArgumentError, InvalidOptionError } from '../../src/core/index.js';
import { AimdLimit, WindowedLimit } from '../../src/limit/index.js';
import { KeyedRateLimiter, MemoryStore } from '../../src/rate/index.js';

const cases: [string, (o: never) => unknown, string][] = [
  ['consecutiveFailures', (o) => consecutiveFailures(o), 'threshhold: expected one of the consecutiveFailures options (did you mean "threshold"?), received 3'],
  ['countWindow', (o) => countWindow(o), 'minCalls: expected one of the countWindow options: size, failureRatio, slowCallRatio, slowCallMs, minimumCalls, received 3'],
  ['timeWindow', (o) => timeWindow(o), 'bucket: expected one of the timeWindow options (did you mean "buckets"?), received 3'],
  ['WindowedLimit', (o) => new WindowedLimit(new AimdLimit(), o), 'minSample: expected one of the WindowedLimit options (did you mean "minSamples"?), received 3'],
  ['MemoryStore', (o) => new MemoryStore(o), 'maxKey: expected one of the MemoryStore options (did you mean "maxKeys"?), received 3'],
];
const typo: Record<string, Record<string, number>> = {
  consecutiveFailures: { threshhold: 3 },
  countWindow: { minCalls: 3 },
  timeWindow: { bucket: 3 },
  WindowedLimit: { minSample: 3 },
  MemoryStore: { maxKey: 3 },
};

describe('unknown option keys', () => {
  for (const [name, make, message] of cases) {
    it(`${name} refuses a misspelt option, naming the nearest one`, () => {
      expect(() => make(typo[name] as never)).toThrow(InvalidOptionError);
      expect(() => make(typo[name] as never)).toThrow(message);
    });
    it(`${name} refuses null for its options object`, () => {
      expect(() => make(null as never)).toThrow(InvalidArgumentError);
    });
  }

  it('a KeyedRateLimiter still configures its memory store from maxKeys and minTurnoverMs', () => {
    const keyed = new KeyedRateLimiter({ name: 'k', policy: { algorithm: 'gcra', rate: 1, burst: 1 }, maxKeys: 2, minTurnoverMs: 0 });
    expect(keyed.tryAdmit({ key: 'a' }).ok).toBe(true);
    expect(keyed.tryAdmit({ key: 'b' }).ok).toBe(true);
    // A table of 2: the third key evicts one into the floor (a spent bucket); the fourth starts from it.
    expect(keyed.tryAdmit({ key: 'c' }).ok).toBe(true);
    const fourth = keyed.tryAdmit({ key: 'd' });
    expect(fourth.ok === false && fourth.reason).toBe('keys_full');
    expect(keyed.stats().keys).toBe(2);
  });
});
