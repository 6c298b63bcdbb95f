// The bounds every limit algorithm shares (src/limit/bounds.ts), given bad values: each is
// named as itself. Before, a maxLimit that was not an integer >= 1 was reported as minLimit
// (the default minLimit is derived from it: "minLimit: expected an integer >= 1, received
// NaN" for maxLimit: '30d'), and minLimit: Infinity was accepted, pinning the limit at
// Infinity for good.
import { describe, expect, it } from 'vitest';
import { AimdLimit, Gradient2Limit, VegasLimit } from '../../src/limit/index.js';
import type { BoundsOptions } from '../../src/limit/bounds.js';

const algorithms: [string, (o: BoundsOptions) => unknown][] = [
  ['AimdLimit', (o) => new AimdLimit(o)],
  ['VegasLimit', (o) => new VegasLimit(o)],
  ['Gradient2Limit', (o) => new Gradient2Limit(o)],
];

describe('limit bounds given bad values', () => {
  for (const [name, make] of algorithms) {
    it(`${name}: a bad maxLimit is named maxLimit, with the value received`, () => {
      expect(() => make({ maxLimit: '30d' as unknown as number })).toThrow('maxLimit: expected an integer >= 1, received "30d"');
      expect(() => make({ maxLimit: NaN })).toThrow('maxLimit: expected an integer >= 1, received NaN');
      expect(() => make({ maxLimit: 0 })).toThrow('maxLimit: expected an integer >= 1, received 0');
      expect(() => make({ maxLimit: 2.5 })).toThrow('maxLimit: expected an integer >= 1, received 2.5');
    });

    it(`${name}: minLimit must be finite; maxLimit may be Infinity`, () => {
      expect(() => make({ minLimit: Infinity })).toThrow('minLimit: expected a finite integer >= 1, received Infinity');
      expect(() => make({ maxLimit: Infinity })).not.toThrow();
    });
  }
});
