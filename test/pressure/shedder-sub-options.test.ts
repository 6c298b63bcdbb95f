// LoadShedder's nested options, ceilings and ramps: an object that is not one, a class that is
// not one of theirs, a ramp's misspelt key — each refused by its full path. They were taken in
// silence and the defaults kept (`ceilings: { critcal: 0.5 }` left critical at 0.9).
import { describe, expect, it } from 'vitest';
import { customSignal, LoadShedder, PressureMonitor } from '../../src/pressure/index.js';
import type { LoadShedderOptions } from '../../src/pressure/index.js';
import { thrown } from '../option-error.js';

const loose = (o: Record<string, unknown>): LoadShedderOptions => o as unknown as LoadShedderOptions;
const pressure = new PressureMonitor({ signals: [customSignal({ name: 's', read: () => 0, slowAt: 1, rejectAt: 2 })] });
const CEILINGS = 'an object of ceilings by class ({ critical, sheddable-plus, sheddable })';
const RAMPS = 'an object of ramps by class ({ sheddable, sheddable-plus }, each { from, to })';

const CASES: readonly [string, Record<string, unknown>, string][] = [
  ['ceilings null', { ceilings: null }, `ceilings: expected ${CEILINGS}, received null`],
  ['ceilings a number', { ceilings: 0.8 }, `ceilings: expected ${CEILINGS}, received 0.8`],
  ['ceilings an array', { ceilings: [0.9] }, `ceilings: expected ${CEILINGS}, received an array of length 1`],
  ['ceilings.critcal', { ceilings: { critcal: 0.5 } }, 'ceilings.critcal: expected one of the ceilings options (did you mean "critical"?), received 0.5'],
  ['ceilings["critical-plus"]', { limit: 10, ceilings: { 'critical-plus': 0.5 } }, 'ceilings.critical-plus: expected one of the ceilings options: critical, sheddable-plus, sheddable, received 0.5'],
  ['ramps "30d"', { ramps: '30d' }, `ramps: expected ${RAMPS}, received "30d"`],
  ['ramps null', { ramps: null }, `ramps: expected ${RAMPS}, received null`],
  ['ramps.shedable', { ramps: { shedable: { from: 0, to: 1 } } }, 'ramps.shedable: expected one of the ramps options (did you mean "sheddable"?), received an object'],
  ['ramps.critical', { ramps: { critical: { from: 0, to: 1 } } }, 'ramps.critical: expected one of the ramps options: sheddable, sheddable-plus, received an object'],
  ['ramps.sheddable.fro', { ramps: { sheddable: { fro: 0, to: 1 } } }, 'ramps.sheddable.fro: expected one of the ramp options (did you mean "from"?), received 0'],
  ['ramps["sheddable-plus"].too', { ramps: { 'sheddable-plus': { from: 0, to: 1, too: 1 } } }, 'ramps.sheddable-plus.too: expected one of the ramp options (did you mean "to"?), received 1'],
];

describe('LoadShedder sub-options', () => {
  it.each(CASES)('%s', (_label, options, message) => {
    const e = thrown(() => new LoadShedder(loose({ pressure, ...options })));
    expect(e.message).toBe(message);
  });

  it('takes every valid form as before', () => {
    const s = new LoadShedder({ pressure, limit: 10, ceilings: { critical: 0.8, sheddable: 0.5 }, ramps: { sheddable: { from: 0, to: 0.5 } } });
    expect([s.limit, s.reserve]).toEqual([10, 2]);
    expect(new LoadShedder({ pressure, ceilings: {}, ramps: {} }).limit).toBe(Infinity);
  });
});
