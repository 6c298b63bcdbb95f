// sluice/pressure's pure functions on bad arguments: a level that is not one, watermarks that
// are not watermarks, a NaN reading — each an InvalidArgumentError naming the argument, not a
// TypeError ("Cannot read properties of undefined (reading 'slowAt')"), nor undefined or 0 in
// silence. Valid arguments answer as before.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidOptionError } from '../../src/core/index.js';
import { classOfPriority, customSignal, levelRank, nextLevel, pressureOf, shedProbability, worseLevel } from '../../src/pressure/index.js';
import type { PressureLevel, ShedRamps, Watermarks } from '../../src/pressure/index.js';

const loose = <T>(v: unknown): T => v as T;
const wm = customSignal({ name: 's', read: () => 0, slowAt: 10, rejectAt: 20, hysteresis: 2 }).watermarks;
const ramps: ShedRamps = { sheddable: { from: 0, to: 0 }, 'sheddable-plus': { from: 0, to: 1 } };

const CASES: readonly [string, () => unknown, string][] = [
  ['levelRank(undefined)', () => levelRank(loose(undefined)), 'level: expected a pressure level (one of "ok", "slow", "reject"), received undefined'],
  ['levelRank("x")', () => levelRank(loose('x')), 'level: expected a pressure level (one of "ok", "slow", "reject"), received "x"'],
  ['worseLevel("ok", 2)', () => worseLevel('ok', loose(2)), 'b: expected a pressure level (one of "ok", "slow", "reject"), received 2'],
  ['worseLevel(null, "ok")', () => worseLevel(loose(null), 'ok'), 'a: expected a pressure level (one of "ok", "slow", "reject"), received null'],
  ['pressureOf(5, undefined)', () => pressureOf(5, loose(undefined)), "wm: expected watermarks (an object with slowAt, rejectAt, slowRecoverAt, rejectRecoverAt: a signal's watermarks), received undefined"],
  ['pressureOf(5, {})', () => pressureOf(5, loose({})), 'wm.slowAt: expected a finite number, received undefined'],
  ['pressureOf(5, slowAt "x")', () => pressureOf(5, { ...wm, slowAt: loose('x') }), 'wm.slowAt: expected a finite number, received "x"'],
  ['pressureOf(5, rejectAt below slowAt)', () => pressureOf(5, { ...wm, rejectAt: 5 }), 'wm.rejectAt: expected a number > slowAt (10), received 5'],
  ['pressureOf(5, slowRecoverAt above slowAt)', () => pressureOf(5, { ...wm, slowRecoverAt: 11 }), 'wm.slowRecoverAt: expected a number <= slowAt (10), received 11'],
  ['pressureOf(5, rejectRecoverAt below slowRecoverAt)', () => pressureOf(5, { ...wm, rejectRecoverAt: 7 }), 'wm.rejectRecoverAt: expected a number in [slowRecoverAt (8), rejectAt (20)], received 7'],
  ['pressureOf("30d", wm)', () => pressureOf(loose('30d'), wm), 'value: expected a number, received "30d"'],
  ['pressureOf(undefined, wm)', () => pressureOf(loose(undefined), wm), 'value: expected a number, received undefined'],
  ['nextLevel("up", 5, wm)', () => nextLevel(loose('up'), 5, wm), 'current: expected a pressure level (one of "ok", "slow", "reject"), received "up"'],
  ['nextLevel("ok", NaN, wm)', () => nextLevel('ok', NaN, wm), 'value: expected a number (not NaN), received NaN'],
  ['nextLevel("ok", 5, null)', () => nextLevel('ok', 5, loose(null)), "wm: expected watermarks (an object with slowAt, rejectAt, slowRecoverAt, rejectRecoverAt: a signal's watermarks), received null"],
  ['classOfPriority(NaN)', () => classOfPriority(NaN), 'priority: expected a number (not NaN), received NaN'],
  ['classOfPriority("1")', () => classOfPriority(loose('1')), 'priority: expected a number (not NaN), received "1"'],
  ['shedProbability("vip", …)', () => shedProbability(loose('vip'), 'slow', 0.5, ramps), 'cls: expected a criticality class (one of "critical-plus", "critical", "sheddable-plus", "sheddable"), received "vip"'],
  ['shedProbability(…, "high", …)', () => shedProbability('sheddable', loose('high'), 0.5, ramps), 'level: expected a pressure level (one of "ok", "slow", "reject"), received "high"'],
  ['shedProbability(…, NaN, …)', () => shedProbability('sheddable', 'slow', NaN, ramps), 'pressure: expected a number in [0, 1], received NaN'],
  ['shedProbability(…, 2, …)', () => shedProbability('sheddable', 'slow', 2, ramps), 'pressure: expected a number in [0, 1], received 2'],
  ['shedProbability(…, undefined)', () => shedProbability('sheddable', 'slow', 0.5, loose(undefined)), 'ramps: expected shed ramps (an object with sheddable and sheddable-plus, each { from, to }), received undefined'],
  ['shedProbability(…, {})', () => shedProbability('sheddable', 'slow', 0.5, loose({})), 'ramps: expected shed ramps (an object with sheddable and sheddable-plus, each { from, to }), received an object'],
];

describe('pressure functions name a bad argument', () => {
  it.each(CASES)('%s', (_label, call, message) => {
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(message);
  });

  it('a ramp out of range is named by its path', () => {
    const call = (): number => shedProbability('sheddable', 'slow', 0.5, { sheddable: { from: 0, to: 2 }, 'sheddable-plus': { from: 0, to: 1 } });
    expect(call).toThrow(InvalidOptionError);
    expect(call).toThrow('ramps.sheddable.to: expected a number in [0, 1], received 2');
  });
});

describe('valid arguments answer as before', () => {
  it('levels, pressure, classes and probabilities', () => {
    expect(['ok', 'slow', 'reject'].map((l) => levelRank(l as PressureLevel))).toEqual([0, 1, 2]);
    expect(worseLevel('slow', 'reject')).toBe('reject');
    // NaN is no reading, no pressure (as the monitor skips it).
    expect([5, 15, 25, Infinity, -Infinity, NaN].map((v) => pressureOf(v, wm))).toEqual([0, 0.5, 1, 1, 0, 0]);
    expect(nextLevel('ok', 15, wm)).toBe('slow');
    expect(nextLevel('slow', 9, wm)).toBe('slow');
    expect(nextLevel('slow', 7, wm)).toBe('ok');
    const noHysteresis: Watermarks = customSignal({ name: 'c', read: () => 0, slowAt: 1, rejectAt: 2 }).watermarks;
    expect(nextLevel('reject', 2, noHysteresis)).toBe('reject');
    expect([2, 0, -1, -5, Infinity, -Infinity].map(classOfPriority)).toEqual(['critical-plus', 'critical', 'sheddable-plus', 'sheddable', 'critical-plus', 'sheddable']);
    expect(shedProbability('sheddable-plus', 'slow', 0.25, ramps)).toBe(0.25);
    expect(shedProbability('critical', 'reject', 0, ramps)).toBe(1);
  });
});
