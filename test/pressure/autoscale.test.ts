import { afterEach, describe, expect, it, vi } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import { PressureMonitor } from '../../src/pressure/index.js';
import type { ScaleRequest } from '../../src/pressure/index.js';
import { gauge } from './helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

function setup(autoscale: Record<string, unknown> = {}) {
  const clock = new VirtualClock();
  const g = gauge('queue', { hysteresis: 0.1 });
  const calls: [number, ScaleRequest][] = [];
  const m = new PressureMonitor({
    signals: [g.signal],
    clock,
    intervalMs: 1000,
    autoscale: { onScale: (delta, req) => void calls.push([delta, req]), dwellMs: 3000, repeatMs: 5000, ...autoscale },
  }).start();
  return { clock, g, calls, m };
}

describe('autoscaler hook', () => {
  it('asks for slowDelta after slow holds dwellMs, then again every repeatMs', () => {
    const { clock, g, calls, m } = setup();
    g.value = 0.8;
    clock.advance(1000); // slow since 1000
    clock.advance(2000); // held 2000 < 3000
    expect(calls).toEqual([]);
    clock.advance(1000); // t = 4000, held 3000
    expect(calls).toEqual([[1, { level: 'slow', heldMs: 3000, at: 4000, attempt: 1 }]]);
    clock.advance(4000); // t = 8000: 4000 since the request < repeatMs
    expect(calls).toHaveLength(1);
    clock.advance(1000); // t = 9000
    expect(calls.map(([d, r]) => [d, r.attempt, r.at])).toEqual([
      [1, 1, 4000],
      [1, 2, 9000],
    ]);
    m.stop();
  });

  it('a level change starts a new hold; reject asks for rejectDelta', () => {
    const { clock, g, calls, m } = setup({ slowDelta: 2, rejectDelta: 5 }); // the seed's counts
    g.value = 0.8;
    clock.advance(3000); // slow since 1000, held 2000
    g.value = 0.95;
    clock.advance(1000); // reject since 4000
    clock.advance(2000); // held 2000
    expect(calls).toEqual([]);
    clock.advance(1000); // t = 7000, held 3000
    expect(calls.map(([d, r]) => [d, r.level])).toEqual([[5, 'reject']]);
    m.stop();
  });

  it('asks nothing while ok unless okDelta is set (scale in)', () => {
    const quiet = setup();
    quiet.clock.advance(60_000);
    expect(quiet.calls).toEqual([]);
    quiet.m.stop();
    const { clock, calls, m } = setup({ okDelta: -1, repeatMs: Infinity });
    clock.advance(60_000);
    expect(calls.map(([d, r]) => [d, r.level, r.at])).toEqual([[-1, 'ok', 3000]]); // once per hold
    m.stop();
  });

  it('a hook that throws or rejects is reported as a warning, and sampling goes on', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const clock = new VirtualClock();
    const g = gauge('g');
    let n = 0;
    const m = new PressureMonitor({
      signals: [g.signal],
      clock,
      intervalMs: 1000,
      autoscale: {
        dwellMs: 0,
        repeatMs: 1000,
        onScale: () => {
          n++;
          if (n === 1) throw new Error('scaler down');
          return Promise.reject(new Error('scaler rejected'));
        },
      },
    }).start();
    g.value = 0.8;
    await clock.tick(2000);
    expect(n).toBe(2);
    expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([expect.stringContaining('scaler down'), expect.stringContaining('scaler rejected')]);
    m.stop();
  });
});
