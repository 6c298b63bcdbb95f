// The public API of `sluice` and `sluice/core`, pinned: what a user can import. The option
// checkers the library validates with (optNumber, optKnownKeys, nearestKey, …) are internal —
// undocumented, with signatures that change as the checks do — so neither export has them.
// A name added to or taken from `sluice/core` is a change of the public API: update the list
// here on purpose, with its docs.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as core from '../../src/core/public.js';
import * as root from '../../src/index.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { exports: Record<string, { import: { types: string; default: string }; require: { types: string; default: string } }> };

const CORE = [
  'AbortedError',
  'ClosedError',
  'EventHub',
  'GateBase',
  'GatePermit',
  'InvalidArgumentError',
  'InvalidOptionError',
  'MissingDependencyError',
  'REJECTION_REASONS',
  'RejectedError',
  'SluiceError',
  'StreamRuleError',
  'TIMER_MAX_MS',
  'VirtualClock',
  'abortError',
  'diagnosticsChannels',
  'flushMicrotasks',
  'isPromise',
  'isSluiceError',
  'readContext',
  'rejectionError',
  'shownKey',
  'storedKey',
  'systemClock',
  'waitDeadline',
];

const INTERNAL = ['optNumber', 'optInt', 'optOneOf', 'optBoolean', 'optFunction', 'optRecord', 'argNumber', 'nearestKey', 'optionKeys', 'optKnownKeys', 'optTenantKeys', 'underOption', 'argInt'];

describe('public API', () => {
  it('sluice/core exports exactly its public names', () => {
    expect(Object.keys(core).sort()).toEqual(CORE);
  });

  it('neither sluice nor sluice/core exports the option checkers', () => {
    expect(INTERNAL.filter((n) => n in root)).toEqual([]);
    expect(INTERNAL.filter((n) => n in core)).toEqual([]);
  });

  it('sluice re-exports all of sluice/core', () => {
    expect(CORE.filter((n) => !(n in root))).toEqual([]);
  });

  it("the exports map's ./core is the public barrel, in both conditions", () => {
    const entry = pkg.exports['./core']!;
    expect([entry.import.default, entry.import.types, entry.require.default, entry.require.types]).toEqual(['./dist/core/public.js', './dist/core/public.d.ts', './dist/core/public.js', './dist/cjs-types/core/public.d.ts']);
  });
});
