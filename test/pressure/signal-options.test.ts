// The built-in pressure signals refuse an option they do not know, as every other public
// factory does, and every signal refuses null for its options by name. Before,
// heapSignal({ slowAT: 0.5 }) took the typo in silence and kept the default watermark, and
// heapSignal(null) threw "Cannot read properties of null (reading 'name')".
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidOptionError } from '../../src/core/index.js';
import { customSignal, eventLoopDelaySignal, eventLoopUtilizationSignal, heapSignal, queueDelaySignal, rssSignal } from '../../src/pressure/index.js';

const signals: [string, (o: never) => unknown][] = [
  ['eventLoopDelaySignal', (o) => eventLoopDelaySignal(o)],
  ['eventLoopUtilizationSignal', (o) => eventLoopUtilizationSignal(o)],
  ['heapSignal', (o) => heapSignal(o)],
  ['rssSignal', (o) => rssSignal(o)],
  ['queueDelaySignal', (o) => queueDelaySignal(o)],
];

describe('pressure signal options', () => {
  for (const [name, make] of signals) {
    it(`${name} refuses a misspelt option, naming the nearest one, and null`, () => {
      expect(() => make({ slowAT: 0.5 } as never)).toThrow(InvalidOptionError);
      expect(() => make({ slowAT: 0.5 } as never)).toThrow(`slowAT: expected one of the ${name} options (did you mean "slowAt"?), received 0.5`);
      expect(() => make(null as never)).toThrow(`options: expected an object of ${name} options, received null`);
    });
  }

  it('customSignal refuses null by name', () => {
    expect(() => customSignal(null as never)).toThrow(InvalidArgumentError);
    expect(() => customSignal(null as never)).toThrow('options: expected an object of customSignal options, received null');
  });
});
