import { describe, expect, it } from 'vitest';
import { InvalidOptionError, VirtualClock } from '../../src/core/index.js';
import { ConcurrencyGate } from '../../src/concurrency/index.js';
import {
  eventLoopDelaySignal,
  eventLoopUtilizationSignal,
  heapSignal,
  memoryLimit,
  PRESSURE_DEFAULTS,
  PressureMonitor,
  queueDelaySignal,
  queueSignal,
  rssSignal,
} from '../../src/pressure/index.js';
import type { DelayHistogram, Signal } from '../../src/pressure/index.js';

function levelsOf(signal: Signal, readings: (() => void)[]): string[] {
  const m = new PressureMonitor({ signals: [signal], clock: new VirtualClock() });
  return readings.map((set) => (set(), m.sample().level));
}

describe('queue signal', () => {
  it('reads queued / limit from any stats() source, with the seed watermarks 0.7 / 0.9', () => {
    let queued = 0;
    const s = queueSignal({ stats: () => ({ queued, limit: 100 }) });
    expect(s.name).toBe('queue');
    expect(s.watermarks).toMatchObject({ slowAt: 0.7, rejectAt: 0.9 });
    expect(levelsOf(s, [() => (queued = 50), () => (queued = 75), () => (queued = 95), () => (queued = 85), () => (queued = 55)])).toEqual(['ok', 'slow', 'reject', 'reject', 'ok']);
  });

  it('reads a concurrency gate, divided by its maxQueue when given as the capacity', async () => {
    const gate = new ConcurrencyGate({ limit: 1, maxQueue: 10, clock: new VirtualClock() });
    const s = queueSignal(gate, { capacity: 10 });
    void gate.admit(); // takes the only slot, synchronously
    const waiting = Array.from({ length: 8 }, () => gate.acquire());
    expect(s.read()).toBeCloseTo(0.8);
    gate.close();
    await Promise.allSettled(waiting);
    expect(queueSignal(gate).read()).toBe(0);
  });

  it('reads a depth function divided by a capacity; an unbounded limit reads 0', () => {
    let depth = 3;
    expect(queueSignal(() => depth, { capacity: 4 }).read()).toBe(0.75);
    depth = 8;
    expect(queueSignal(() => depth, { capacity: 4, name: 'jobs' }).read()).toBe(2);
    expect(queueSignal({ stats: () => ({ queued: 5, limit: Infinity }) }).read()).toBe(0);
  });

  it('rejects bad options', () => {
    expect(() => queueSignal(() => 1)).toThrow(/queue\.capacity: expected a number > 0 when the source is a function/);
    expect(() => queueSignal(() => 1, { capacity: 0 })).toThrow(InvalidOptionError);
    expect(() => queueSignal({} as never)).toThrow(/queue\.source/);
    expect(() => queueSignal(() => 1, { capacity: 1, slowAt: 0.9 })).toThrow(/queue\.rejectAt: expected a number > slowAt \(0\.9\), received 0\.9/);
  });
});

describe('queue delay signal', () => {
  it('aggregates the delays recorded in each interval; an empty interval reads 0', () => {
    const mean = queueDelaySignal();
    const max = queueDelaySignal({ aggregate: 'max' });
    const min = queueDelaySignal({ aggregate: 'min' });
    for (const s of [mean, max, min]) for (const d of [10, 30, 200, -1, NaN]) s.record(d);
    expect([mean.read(), max.read(), min.read()]).toEqual([80, 200, 10]);
    expect([mean.read(), max.read(), min.read()]).toEqual([0, 0, 0]);
  });

  it('reads waitedMs from a gate while the monitor runs', async () => {
    const clock = new VirtualClock();
    const gate = new ConcurrencyGate({ limit: 1, maxQueue: 5, clock });
    const s = queueDelaySignal({ gate, slowAt: 100, rejectAt: 400, hysteresis: 50 });
    const m = new PressureMonitor({ signals: [s], clock, intervalMs: 1000 }).start();
    const first = await gate.acquire();
    const second = gate.acquire();
    await clock.tick(300);
    first.release();
    (await second).release(); // waited 300 ms
    await clock.tick(700);
    expect(m.snapshot().signals[0]).toMatchObject({ value: 150, level: 'slow' }); // mean of 0 and 300
    m.stop();
    (await gate.acquire()).release();
    expect(s.read()).toBe(0); // unsubscribed on stop
  });

  it('rejects bad options', () => {
    expect(() => queueDelaySignal({ aggregate: 'p99' as never })).toThrow(/queue-delay\.aggregate: expected one of "mean", "max", "min", received "p99"/);
    expect(() => queueDelaySignal({ gate: {} as never })).toThrow(/queue-delay\.gate/);
  });
});

/** A histogram in the shape of Node's, reporting timer periods of `resolution + delay` ms. */
function fakeHistogram(): DelayHistogram & { delayMs: number; resets: number; enabled: boolean } {
  return {
    delayMs: 0,
    resets: 0,
    enabled: false,
    get count() {
      return this.enabled ? 10 : 0;
    },
    percentile(p: number) {
      return (10 + this.delayMs * (p / 100)) * 1e6;
    },
    reset() {
      this.resets++;
    },
    enable() {
      this.enabled = true;
    },
    disable() {
      this.enabled = false;
    },
  };
}

describe('event-loop delay signal', () => {
  it('reads the percentile beyond the timer resolution, in ms, and resets every interval', () => {
    const h = fakeHistogram();
    const s = eventLoopDelaySignal({ histogram: h, percentile: 100 });
    const clock = new VirtualClock();
    const m = new PressureMonitor({ signals: [s], clock, intervalMs: 500 }).start();
    expect(h.enabled).toBe(true);
    h.delayMs = 120;
    clock.advance(500);
    expect(m.snapshot().signals[0]).toMatchObject({ name: 'event-loop-delay', value: 120, level: 'slow' });
    h.delayMs = 400;
    clock.advance(500);
    expect(m.level).toBe('reject');
    h.delayMs = 0;
    clock.advance(500);
    expect(m.level).toBe('ok');
    expect(h.resets).toBe(4); // once on start, once per reading
    m.stop();
    expect(h.enabled).toBe(false);
    expect(s.read()).toBe(0); // an empty histogram reads 0
  });

  it('defaults: p99, 10 ms resolution, 50 / 200 ms', () => {
    const s = eventLoopDelaySignal();
    expect(s.watermarks).toMatchObject({ slowAt: 50, rejectAt: 200, slowRecoverAt: 30, rejectRecoverAt: 180 });
    expect(PRESSURE_DEFAULTS.eventLoopDelay).toMatchObject({ percentile: 99, resolutionMs: 10 });
    expect(s.read()).toBe(0); // never started
  });

  it('rejects bad options', () => {
    expect(() => eventLoopDelaySignal({ percentile: 0 })).toThrow(/event-loop-delay\.percentile: expected a number in \(0, 100\], received 0/);
    expect(() => eventLoopDelaySignal({ percentile: 101 })).toThrow(InvalidOptionError);
    expect(() => eventLoopDelaySignal({ resolutionMs: 0.5 })).toThrow(/resolutionMs: expected an integer in \[1, 60000\]/);
    expect(() => eventLoopDelaySignal({ histogram: {} as never })).toThrow(/histogram/);
  });
});

describe('event-loop utilization signal', () => {
  it('reads the active share of each interval from cumulative loop times', () => {
    let t = { idle: 0, active: 0 };
    const s = eventLoopUtilizationSignal({ source: () => t });
    const m = new PressureMonitor({ signals: [s], clock: new VirtualClock() }).start();
    t = { idle: 50, active: 950 };
    expect(m.sample().signals[0]).toMatchObject({ value: 0.95, level: 'slow' });
    t = { idle: 60, active: 1940 };
    expect(m.sample().signals[0]).toMatchObject({ value: 0.99, level: 'reject' });
    t = { idle: 1060, active: 1940 };
    expect(m.sample().level).toBe('ok');
    m.stop();
  });

  it('reads the real loop between 0 and 1', () => {
    const s = eventLoopUtilizationSignal();
    s.start?.();
    const v = s.read();
    expect(v).toBeGreaterThanOrEqual(0);
    expect(v).toBeLessThanOrEqual(1);
  });
});

describe('memory signals', () => {
  it('heap: used / heap limit', () => {
    let used = 500;
    const s = heapSignal({ heapUsed: () => used, heapLimit: 1000 });
    expect(levelsOf(s, [() => (used = 500), () => (used = 850), () => (used = 950), () => (used = 840), () => (used = 700)])).toEqual(['ok', 'slow', 'reject', 'slow', 'ok']);
  });

  it('rss: resident / limit', () => {
    let rss = 0;
    const s = rssSignal({ rss: () => rss, limitBytes: 2000 });
    expect(levelsOf(s, [() => (rss = 1700), () => (rss = 1900)])).toEqual(['slow', 'reject']);
  });

  it('read the real process by default', () => {
    const heap = heapSignal().read();
    const rss = rssSignal().read();
    expect(heap).toBeGreaterThan(0);
    expect(heap).toBeLessThan(1);
    expect(rss).toBeGreaterThan(0);
    expect(rss).toBeLessThan(1);
    expect(memoryLimit()).toBeGreaterThan(0);
  });

  it('reject bad options', () => {
    expect(() => heapSignal({ heapLimit: 0 })).toThrow(/heap\.heapLimit: expected a number > 0, received 0/);
    expect(() => rssSignal({ limitBytes: -1 })).toThrow(InvalidOptionError);
    expect(() => rssSignal({ rss: 5 as never })).toThrow(/rss\.rss: expected a function/);
    expect(() => heapSignal({ slowAt: 0.95 })).toThrow(/heap\.rejectAt/);
  });
});
