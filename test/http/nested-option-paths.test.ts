// HttpAdmission's nested options name the caller's path: `shed.limit`, `concurrency.algorithm`,
// `concurrency.discipline.targetMs`, `rateLimits[0].rate` — they were named as the gate built
// from them calls them (`limit`, `algorithm.limit`, `discipline.targetMs`, `policy.rate`), which
// the caller never wrote, and `shed: null` said "pressure: … received undefined".
import { describe, expect, it } from 'vitest';
import { HttpAdmission } from '../../src/http/index.js';
import type { HttpAdmissionOptions } from '../../src/http/index.js';
import { customSignal, PressureMonitor } from '../../src/pressure/index.js';
import { thrown } from '../option-error.js';

const loose = (o: Record<string, unknown>): HttpAdmissionOptions<never> => o as HttpAdmissionOptions<never>;
const pressure = new PressureMonitor({ signals: [customSignal({ name: 's', read: () => 0, slowAt: 1, rejectAt: 2 })] });
const ALGORITHM = 'a limit algorithm (an object with limit and onSample(): new AimdLimit(), VegasLimit, Gradient2Limit, WindowedLimit from sluice/limit)';

const CASES: readonly [string, Record<string, unknown>, string][] = [
  ['shed null', { shed: null }, 'shed: expected a LoadShedder or its options, received null'],
  ['shed a number', { shed: 3 }, 'shed: expected a LoadShedder or its options, received 3'],
  ['shed without pressure', { shed: {} }, 'shed.pressure: expected a pressure source (a PressureMonitor), received undefined'],
  ['shed.limit', { shed: { pressure, limit: -1 } }, 'shed.limit: expected an integer >= 2, received -1'],
  ['shed.lmit', { shed: { pressure, lmit: 10 } }, 'shed.lmit: expected one of the LoadShedder options (did you mean "limit"?), received 10'],
  ['shed.ceilings.critical', { shed: { pressure, ceilings: { critical: 2 } } }, 'shed.ceilings.critical: expected a number in (0, 1], received 2'],
  ['shed.ramps.sheddable.from', { shed: { pressure, ramps: { sheddable: { from: 2, to: 2 } } } }, 'shed.ramps.sheddable.from: expected a number in [0, 1], received 2'],
  ['concurrency.algorithm a name', { concurrency: { algorithm: 'aimd' } }, `concurrency.algorithm: expected ${ALGORITHM}, received "aimd"`],
  ['concurrency.discipline.targetMs', { concurrency: { limit: 2, maxQueue: 4, discipline: { type: 'codel', targetMs: -1 } } }, 'concurrency.discipline.targetMs: expected a number >= 0, received -1'],
  ['concurrency.discipline a number', { concurrency: { limit: 2, maxQueue: 4, discipline: 7 } }, 'concurrency.discipline: expected a discipline: one of "fifo", "lifo", "codel", "priority", or an object { type, … }, received 7'],
  ['rateLimits[0].rate', { rateLimits: [{ algorithm: 'token-bucket', rate: -1 }] }, 'rateLimits[0].rate: expected a finite number > 0, received -1'],
  ['rateLimits[1].windowMs', { rateLimits: [{ name: 'a', algorithm: 'gcra', rate: 5 }, { name: 'b', algorithm: 'sliding-window', limit: 5, windowMs: NaN }] }, 'rateLimits[1].windowMs: expected a number in (0, 2147483647000], received NaN'],
  ['rateLimits[0].burst on a window', { rateLimits: [{ algorithm: 'sliding-window', limit: 5, windowMs: 1000, burst: 2 }] }, 'rateLimits[0].burst: expected absent for algorithm "sliding-window", received 2'],
];

describe('HttpAdmission names a nested option by its path', () => {
  it.each(CASES)('%s', (_label, options, message) => {
    const e = thrown(() => new HttpAdmission(loose(options)));
    expect(e.message).toBe(message);
  });

  it('builds the same gates from valid options as before', () => {
    const a = new HttpAdmission({ name: 'api', shed: { pressure, limit: 10 }, rateLimits: [{ algorithm: 'token-bucket', rate: 5, burst: 10 }], concurrency: { limit: 2, maxQueue: 4, discipline: { type: 'codel', targetMs: 5 } } });
    expect(a.gates.map((g) => g.name)).toEqual(['api-shed', 'api-default', 'api-concurrency']);
    a.close();
  });
});
