import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import { levelRank, PressureMonitor } from '../../src/pressure/index.js';
import type { PressureLevel, Watermarks } from '../../src/pressure/index.js';
import { gauge } from './helpers.js';

/** Watermarks in a small integer grid, so readings land on the marks themselves often. */
const watermarksArb = fc
  .tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 15 }))
  .map(([slowAt, gap, hysteresis]) => ({ slowAt, rejectAt: slowAt + gap, hysteresis }));

const readingsArb = fc.array(fc.oneof(fc.integer({ min: -5, max: 90 }), fc.double({ min: -5, max: 90, noNaN: true })), { maxLength: 120 });

function marks(w: { slowAt: number; rejectAt: number; hysteresis: number }): Watermarks {
  return { slowAt: w.slowAt, rejectAt: w.rejectAt, slowRecoverAt: w.slowAt - w.hysteresis, rejectRecoverAt: w.rejectAt - w.hysteresis, minDwellMs: 0 };
}

/** Rising to a level needs a reading above that level's watermark. */
function roseLegally(to: PressureLevel, v: number, m: Watermarks): boolean {
  return to === 'reject' ? v > m.rejectAt : v > m.slowAt;
}

/** Falling out of a level needs a reading below its recovery mark (and below slow's to land in ok). */
function fellLegally(from: PressureLevel, to: PressureLevel, v: number, m: Watermarks): boolean {
  const leftFrom = from === 'reject' ? v < m.rejectRecoverAt : v < m.slowRecoverAt;
  return leftFrom && (to !== 'ok' || v < m.slowRecoverAt);
}

describe('hysteresis, for any reading sequence', () => {
  it('the level changes only when a reading crosses the relevant watermark, never inside a band', () => {
    fc.assert(
      fc.property(watermarksArb, readingsArb, (w, readings) => {
        const clock = new VirtualClock();
        const g = gauge('g', w);
        const m = new PressureMonitor({ signals: [g.signal], clock, intervalMs: 10 });
        const mk = marks(w);
        let prev: PressureLevel = 'ok';
        for (const v of readings) {
          g.value = v;
          clock.advance(10);
          const now = m.sample().level;
          if (levelRank(now) > levelRank(prev)) expect(roseLegally(now, v, mk)).toBe(true);
          if (levelRank(now) < levelRank(prev)) expect(fellLegally(prev, now, v, mk)).toBe(true);
          // Liveness: outside every band the level is determined by the reading alone.
          if (v > mk.rejectAt) expect(now).toBe('reject');
          if (v < mk.slowRecoverAt) expect(now).toBe('ok');
          if (v > mk.slowAt && v < mk.rejectRecoverAt) expect(now).toBe('slow');
          // Inside a band: the level is the one before, as far as the band allows.
          const inSlowBand = v >= mk.slowRecoverAt && v <= mk.slowAt;
          if (inSlowBand && v < mk.rejectRecoverAt) expect(now).toBe(prev === 'reject' ? 'slow' : prev);
          const inRejectBand = v >= mk.rejectRecoverAt && v <= mk.rejectAt;
          if (inRejectBand && v > mk.slowAt) expect(now).toBe(prev === 'ok' ? 'slow' : prev);
          if (inRejectBand && inSlowBand) expect(now).toBe(prev);
          prev = now;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a sequence that stays inside one band never changes the level, whatever the noise', () => {
    fc.assert(
      fc.property(watermarksArb.filter((w) => w.hysteresis > 0), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 60 }), (w, unit) => {
        const clock = new VirtualClock();
        const g = gauge('g', w);
        const m = new PressureMonitor({ signals: [g.signal], clock });
        g.value = w.slowAt + 0.5; // enter slow
        m.sample();
        let changes = 0;
        m.on('level', () => changes++);
        const mk = marks(w);
        const top = Math.min(mk.slowAt, mk.rejectRecoverAt);
        for (const u of unit) {
          g.value = mk.slowRecoverAt + u * (top - mk.slowRecoverAt);
          m.sample();
        }
        expect(changes).toBe(0);
        expect(m.level).toBe('slow');
      }),
    );
  });
});
