import { describe, expect, it } from 'vitest';
import { InvalidOptionError, VirtualClock } from '../../src/core/index.js';
import { customSignal, nextLevel, PressureMonitor, pressureOf } from '../../src/pressure/index.js';
import type { PressureLevel, Watermarks } from '../../src/pressure/index.js';
import { gauge } from './helpers.js';

const wm: Watermarks = { slowAt: 0.7, rejectAt: 0.9, slowRecoverAt: 0.6, rejectRecoverAt: 0.8, minDwellMs: 0 };

function walk(values: number[], w: Watermarks = wm): PressureLevel[] {
  let level: PressureLevel = 'ok';
  return values.map((v) => (level = nextLevel(level, v, w)));
}

describe('watermarks with hysteresis', () => {
  it('enters slow above slowAt and reject above rejectAt, the seed recipe (0.7 / 0.9)', () => {
    expect(walk([0.5, 0.7, 0.71, 0.9, 0.91])).toEqual(['ok', 'ok', 'slow', 'slow', 'reject']);
    expect(walk([0.95])).toEqual(['reject']);
  });

  it('holds a level inside the band below its watermark and leaves it only below the recovery mark', () => {
    expect(walk([0.95, 0.85, 0.8, 0.79, 0.65, 0.6, 0.59])).toEqual(['reject', 'reject', 'reject', 'slow', 'slow', 'slow', 'ok']);
  });

  it('does not flap around a threshold', () => {
    const noisy = [0.69, 0.71, 0.69, 0.72, 0.68, 0.71, 0.65, 0.7, 0.62];
    const levels = walk(noisy);
    expect(levels).toEqual(['ok', 'slow', 'slow', 'slow', 'slow', 'slow', 'slow', 'slow', 'slow']);
    // One change (ok -> slow at the first crossing), then none however the reading wobbles.
    const changes = levels.filter((l, i) => l !== (levels[i - 1] ?? 'ok')).length;
    expect(changes).toBe(1);
  });

  it('falls from reject straight to ok when the reading drops below the slow recovery mark', () => {
    expect(walk([0.95, 0.1])).toEqual(['reject', 'ok']);
  });

  it('pressure is 0 at or below slowAt, 1 at or above rejectAt, linear between', () => {
    expect(pressureOf(0.5, wm)).toBe(0);
    expect(pressureOf(0.7, wm)).toBe(0);
    expect(pressureOf(0.8, wm)).toBeCloseTo(0.5);
    expect(pressureOf(0.9, wm)).toBe(1);
    expect(pressureOf(3, wm)).toBe(1);
    expect(pressureOf(NaN, wm)).toBe(0);
  });

  it('hysteresis defaults the recovery marks; explicit recovery marks override it', () => {
    const s = customSignal({ name: 'x', read: () => 0, slowAt: 10, rejectAt: 20, hysteresis: 3 });
    expect(s.watermarks).toEqual({ slowAt: 10, rejectAt: 20, slowRecoverAt: 7, rejectRecoverAt: 17, minDwellMs: 0 });
    const t = customSignal({ name: 'x', read: () => 0, slowAt: 10, rejectAt: 20, hysteresis: 3, slowRecoverAt: 2, rejectRecoverAt: 15 });
    expect(t.watermarks).toMatchObject({ slowRecoverAt: 2, rejectRecoverAt: 15 });
  });

  it('a minimum dwell time delays falling, never rising', () => {
    const clock = new VirtualClock();
    const g = gauge('g', { hysteresis: 0.1, minDwellMs: 500 });
    const m = new PressureMonitor({ signals: [g.signal], clock, intervalMs: 100 }).start();
    g.value = 0.8;
    clock.advance(100);
    expect(m.level).toBe('slow');
    g.value = 0.95;
    clock.advance(100); // rising is immediate even inside the dwell
    expect(m.level).toBe('reject');
    g.value = 0.1;
    clock.advance(400); // t = 600: reject entered at 200, held 400 ms < 500
    expect(m.level).toBe('reject');
    clock.advance(100); // t = 700: dwell over, reading 0.1 -> ok
    expect(m.level).toBe('ok');
    m.stop();
  });
});

describe('invalid watermarks are errors at construction', () => {
  const base = { name: 's', read: () => 0 };
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['slowAt >= rejectAt', { slowAt: 0.9, rejectAt: 0.9 }, 's.rejectAt', /expected a number > slowAt \(0\.9\), received 0\.9/],
    ['slowAt above rejectAt', { slowAt: 1, rejectAt: 0.5 }, 's.rejectAt', /received 0\.5/],
    ['slowRecoverAt >= slowAt', { slowAt: 0.7, rejectAt: 0.9, slowRecoverAt: 0.7 }, 's.slowRecoverAt', /expected a number < slowAt \(0\.7\), received 0\.7/],
    ['rejectRecoverAt >= rejectAt', { slowAt: 0.7, rejectAt: 0.9, rejectRecoverAt: 0.95 }, 's.rejectRecoverAt', /< rejectAt/],
    ['reject recovers below slow recovery', { slowAt: 0.7, rejectAt: 0.9, slowRecoverAt: 0.6, rejectRecoverAt: 0.5 }, 's.rejectRecoverAt', />= the slow recovery mark/],
    ['hysteresis pushes reject recovery below slow recovery', { slowAt: 0.7, rejectAt: 0.9, slowRecoverAt: 0.65, hysteresis: 0.5 }, 's.hysteresis', />= the slow recovery mark/],
    ['negative hysteresis', { slowAt: 0.7, rejectAt: 0.9, hysteresis: -0.1 }, 's.hysteresis', /a finite number >= 0, received -0\.1/],
    ['NaN watermark', { slowAt: NaN, rejectAt: 0.9 }, 's.slowAt', /received NaN/],
    ['infinite watermark', { slowAt: 0.7, rejectAt: Infinity }, 's.rejectAt', /a finite number, received Infinity/],
    ['missing watermark', { rejectAt: 0.9 }, 's.slowAt', /received undefined/],
    ['negative dwell', { slowAt: 0.7, rejectAt: 0.9, minDwellMs: -1 }, 's.minDwellMs', />= 0, received -1/],
  ];
  for (const [what, opts, option, message] of cases) {
    it(what, () => {
      let err: unknown;
      try {
        customSignal({ ...base, ...opts } as never);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect((err as InvalidOptionError).option).toBe(option);
      expect((err as Error).message).toMatch(message);
    });
  }

  it('a custom signal needs a name and a read function', () => {
    expect(() => customSignal({ name: '', read: () => 0, slowAt: 1, rejectAt: 2 })).toThrow(/name: expected a non-empty string/);
    expect(() => customSignal({ name: 'n', read: 3 as never, slowAt: 1, rejectAt: 2 })).toThrow(/n\.read: expected a function/);
  });
});

describe('watermark options given bad values', () => {
  // Before, a missing or non-numeric watermark said "expected a number >= -Infinity".
  it('say "a finite number", whatever was received', () => {
    const read = (): number => 0;
    expect(() => customSignal({ name: 'x', read } as never)).toThrow('x.slowAt: expected a finite number, received undefined');
    expect(() => customSignal({ name: 'x', read, slowAt: '30d', rejectAt: 2 } as never)).toThrow('x.slowAt: expected a finite number, received "30d"');
    expect(() => customSignal({ name: 'x', read, slowAt: 1, rejectAt: NaN })).toThrow('x.rejectAt: expected a finite number, received NaN');
    expect(() => customSignal({ name: 'x', read, slowAt: 1, rejectAt: Infinity })).toThrow('x.rejectAt: expected a finite number, received Infinity');
    expect(() => customSignal({ name: 'x', read, slowAt: 1, rejectAt: 2, hysteresis: -1 })).toThrow('x.hysteresis: expected a finite number >= 0, received -1');
  });
});
