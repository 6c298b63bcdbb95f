// sluice/dashboard on bad arguments: createDashboard() / new Dashboard() with no options, and
// mergeGroupSamples given what is not a list of lists of samples, name the argument — they threw
// "Cannot read properties of undefined (reading 'groups')" and "perProcess is not iterable".
import { describe, expect, it } from 'vitest';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import { InvalidArgumentError } from '../../src/core/index.js';
import { createDashboard, Dashboard, mergeGroupSamples } from '../../src/dashboard/index.js';
import type { GroupSample } from '../../src/dashboard/index.js';

const loose = <T>(v: unknown): T => v as T;
const OPTIONS = 'options: expected an object of Dashboard options, received';

const CASES: readonly [string, () => unknown, string][] = [
  ['createDashboard(undefined)', () => createDashboard(loose(undefined)), `${OPTIONS} undefined`],
  ['new Dashboard(undefined)', () => new Dashboard(loose(undefined)), `${OPTIONS} undefined`],
  ['mergeGroupSamples(undefined)', () => mergeGroupSamples(loose(undefined)), "perProcess: expected an array with each process's group samples (an array each), received undefined"],
  ['mergeGroupSamples({})', () => mergeGroupSamples(loose({})), "perProcess: expected an array with each process's group samples (an array each), received an object"],
  ['mergeGroupSamples(["x"])', () => mergeGroupSamples(loose(['x'])), 'perProcess[0]: expected an array of group samples, received "x"'],
  ['mergeGroupSamples([[], [null]])', () => mergeGroupSamples(loose([[], [null]])), 'perProcess[1][0]: expected a group sample (an object with a name), received null'],
  ['mergeGroupSamples([], NaN)', () => mergeGroupSamples([], NaN), 'topN: expected a number >= 0, received NaN'],
  ['mergeGroupSamples([], -1)', () => mergeGroupSamples([], -1), 'topN: expected a number >= 0, received -1'],
];

describe('dashboard functions name a bad argument', () => {
  it.each(CASES)('%s', (_label, call, message) => {
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(message);
  });
});

describe('valid calls answer as before', () => {
  it('a dashboard of a group; a merge of two processes', () => {
    const gate = new ConcurrencyGate({ name: 'jobs', limit: 2 });
    const d = createDashboard({ groups: [{ name: 'jobs', gates: [gate] }] });
    const sample = d.snapshot().groups[0]!;
    expect(sample.name).toBe('jobs');
    const merged = mergeGroupSamples([[sample], [sample]]);
    expect(merged.map((g: GroupSample) => [g.name, g.limit])).toEqual([['jobs', 2 * (sample.limit ?? 0)]]);
    expect(mergeGroupSamples([])).toEqual([]);
  });
});
