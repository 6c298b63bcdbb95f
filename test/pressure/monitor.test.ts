import { afterEach, describe, expect, it, vi } from 'vitest';
import { AbortedError, InvalidOptionError, systemClock, VirtualClock } from '../../src/core/index.js';
import type { Clock } from '../../src/core/index.js';
import { PressureMonitor, pressureChannel } from '../../src/pressure/index.js';
import type { LevelChangeEvent, PressureLevel, SignalChangeEvent } from '../../src/pressure/index.js';
import { gauge } from './helpers.js';
import dc from 'node:diagnostics_channel';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('PressureMonitor', () => {
  it('combines signals into the worst level, each with its own hysteresis', () => {
    const clock = new VirtualClock();
    const queue = gauge('queue', { hysteresis: 0.1 });
    const loop = gauge('loop', { slowAt: 50, rejectAt: 200, hysteresis: 20 });
    const m = new PressureMonitor({ signals: [queue.signal, loop.signal], clock, intervalMs: 100 }).start();
    const seen: PressureLevel[] = [];
    m.on('level', (e) => seen.push(e.to));

    queue.value = 0.75; // queue slow
    clock.advance(100);
    expect(m.level).toBe('slow');
    loop.value = 250; // loop reject: worst wins
    clock.advance(100);
    expect(m.level).toBe('reject');
    loop.value = 190; // inside loop's reject band: holds
    clock.advance(100);
    expect(m.level).toBe('reject');
    loop.value = 10; // loop ok; queue (0.75) still slow
    clock.advance(100);
    expect(m.level).toBe('slow');
    queue.value = 0.65; // inside queue's slow band: holds
    clock.advance(100);
    expect(m.level).toBe('slow');
    queue.value = 0.5;
    clock.advance(100);
    expect(m.level).toBe('ok');
    expect(seen).toEqual(['slow', 'reject', 'slow', 'ok']);

    const snap = m.snapshot();
    expect(snap).toMatchObject({ name: 'pressure', level: 'ok', sampledAt: 600, running: true, pressure: 0 });
    expect(snap.signals).toEqual([
      { name: 'queue', value: 0.5, level: 'ok', pressure: 0, since: 600 },
      { name: 'loop', value: 10, level: 'ok', pressure: 0, since: 400 },
    ]);
    m.stop();
  });

  it('level listeners fire once per change of the combined level, not per signal change', () => {
    const clock = new VirtualClock();
    const a = gauge('a');
    const b = gauge('b');
    const m = new PressureMonitor({ signals: [a.signal, b.signal], clock });
    const levels: LevelChangeEvent[] = [];
    const signals: SignalChangeEvent[] = [];
    m.on('level', (e) => levels.push(e));
    m.on('signal', (e) => signals.push(e));
    a.value = 0.8;
    b.value = 0.8;
    m.sample(); // both signals go slow in one sample: one level event
    m.sample(); // nothing changes
    b.value = 0.95;
    m.sample(); // b reject
    a.value = 0;
    m.sample(); // a ok, level stays reject: no level event
    expect(levels.map((e) => [e.from, e.to, e.causes])).toEqual([
      ['ok', 'slow', ['a', 'b']],
      ['slow', 'reject', ['b']],
    ]);
    expect(signals.map((e) => `${e.signal}:${e.from}->${e.to}@${e.value}`)).toEqual(['a:ok->slow@0.8', 'b:ok->slow@0.8', 'b:slow->reject@0.95', 'a:slow->ok@0']);
  });

  it('reports pressure as the highest signal pressure in [0, 1]', () => {
    const a = gauge('a');
    const b = gauge('b');
    const m = new PressureMonitor({ signals: [a.signal, b.signal], clock: new VirtualClock() });
    a.value = 0.75;
    b.value = 0.85;
    m.sample();
    expect(m.pressure).toBeCloseTo(0.75);
    b.value = 2;
    m.sample();
    expect(m.pressure).toBe(1);
  });

  it('samples on the clock timer, and stop() ends it (no timer left)', () => {
    const clock = new VirtualClock();
    const reads: number[] = [];
    const g = gauge('g');
    const signal = { ...g.signal, read: () => (reads.push(clock.now()), g.value) };
    const m = new PressureMonitor({ signals: [signal], clock, intervalMs: 250 });
    clock.advance(1000);
    expect(reads).toEqual([]); // not started
    m.start();
    m.start(); // idempotent: one timer
    expect(clock.pendingTimers).toBe(1);
    clock.advance(1000);
    expect(reads).toEqual([1250, 1500, 1750, 2000]);
    m.stop();
    expect(clock.pendingTimers).toBe(0);
    clock.advance(1000);
    expect(reads).toHaveLength(4);
    expect(m.running).toBe(false);
  });

  it('starts and stops its signals with the sampler', () => {
    const clock = new VirtualClock();
    const log: string[] = [];
    const g = gauge('g');
    const signal = { ...g.signal, start: () => log.push('start'), stop: () => log.push('stop') };
    const m = new PressureMonitor({ signals: [signal], clock });
    m.start();
    m.stop();
    m.stop();
    m.start();
    expect(log).toEqual(['start', 'stop', 'start']);
    m.stop();
  });

  it('does not keep the process alive: the real timer is unref-ed', () => {
    const handles: NodeJS.Timeout[] = [];
    const clock: Clock = {
      now: () => systemClock.now(),
      setTimer: (fn, ms) => {
        const h = systemClock.setTimer(fn, ms) as NodeJS.Timeout;
        handles.push(h);
        return h;
      },
      clearTimer: (h) => systemClock.clearTimer(h),
    };
    const m = new PressureMonitor({ signals: [gauge('g').signal], clock, intervalMs: 60_000 }).start();
    expect(handles).toHaveLength(1);
    expect(handles[0]!.hasRef()).toBe(false);
    m.stop();
  });

  it('skips a reading that throws (with a warning) or is NaN, keeping the signal level', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const g = gauge('g');
    let mode: 'ok' | 'throw' | 'nan' = 'ok';
    const signal = {
      ...g.signal,
      read: () => {
        if (mode === 'throw') throw new Error('sensor down');
        return mode === 'nan' ? NaN : g.value;
      },
    };
    const m = new PressureMonitor({ signals: [signal], clock: new VirtualClock() });
    g.value = 0.8;
    m.sample();
    mode = 'throw';
    expect(m.sample().level).toBe('slow');
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('sensor down'), expect.objectContaining({ code: 'SLUICE_SIGNAL_ERROR' }));
    mode = 'nan';
    expect(m.sample().signals[0]).toMatchObject({ value: 0.8, level: 'slow' });
  });

  it('a throwing listener does not stop the others or the sampler', () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const g = gauge('g');
    const m = new PressureMonitor({ signals: [g.signal], clock: new VirtualClock() });
    const seen: string[] = [];
    m.on('level', () => {
      throw new Error('boom');
    });
    m.on('level', (e) => seen.push(e.to));
    g.value = 1;
    m.sample();
    expect(seen).toEqual(['reject']);
  });

  it('a sample() from inside a listener does not sample again', () => {
    const g = gauge('g');
    const m = new PressureMonitor({ signals: [g.signal], clock: new VirtualClock() });
    let nested: PressureLevel | undefined;
    m.on('level', () => {
      g.value = 0;
      nested = m.sample().level;
    });
    g.value = 1;
    m.sample();
    expect(nested).toBe('reject');
    expect(m.level).toBe('reject');
  });

  it('sample events carry the snapshot; unsubscribe stops them', () => {
    const m = new PressureMonitor({ signals: [gauge('g').signal], clock: new VirtualClock(5) });
    const at: number[] = [];
    const off = m.on('sample', (e) => at.push(e.snapshot.sampledAt ?? -1));
    m.sample();
    off();
    m.sample();
    expect(at).toEqual([5]);
  });

  it('publishes level changes on the sluice:pressure diagnostics channel', () => {
    const got: unknown[] = [];
    const sub = (msg: unknown): void => {
      got.push(msg);
    };
    dc.subscribe('sluice:pressure', sub);
    try {
      const g = gauge('g');
      const m = new PressureMonitor({ signals: [g.signal], clock: new VirtualClock(), name: 'api' });
      g.value = 0.8;
      m.sample();
      expect(pressureChannel.hasSubscribers).toBe(true);
      expect(got).toEqual([expect.objectContaining({ type: 'level', monitor: 'api', from: 'ok', to: 'slow' })]);
    } finally {
      dc.unsubscribe('sluice:pressure', sub);
    }
  });

  it('retryAfterMs: until the next sample, or the dwell time still to run', () => {
    const clock = new VirtualClock();
    const g = gauge('g', { minDwellMs: 5000 });
    const m = new PressureMonitor({ signals: [g.signal], clock, intervalMs: 1000 });
    expect(m.retryAfterMs()).toBe(1000); // not running: one interval
    m.start();
    clock.advance(300);
    expect(m.retryAfterMs()).toBe(700);
    g.value = 1;
    clock.advance(700); // t = 1000: reject, held at least until 6000
    expect(m.level).toBe('reject');
    clock.advance(500);
    expect(m.retryAfterMs()).toBe(4500);
    m.stop();
  });

  it('waitFor resolves when the level falls far enough, and rejects on abort', async () => {
    const clock = new VirtualClock();
    const g = gauge('g');
    const m = new PressureMonitor({ signals: [g.signal], clock, intervalMs: 100 }).start();
    await expect(m.waitFor('ok')).resolves.toBeUndefined();
    g.value = 1;
    clock.advance(100);
    let slowOrBetter = false;
    let ok = false;
    void m.waitFor('slow').then(() => (slowOrBetter = true));
    void m.waitFor().then(() => (ok = true));
    g.value = 0.8;
    await clock.tick(100);
    expect([slowOrBetter, ok]).toEqual([true, false]);
    g.value = 0;
    await clock.tick(100);
    expect(ok).toBe(true);

    g.value = 1;
    clock.advance(100);
    const ac = new AbortController();
    const waiting = m.waitFor('ok', { signal: ac.signal });
    ac.abort(new Error('gave up'));
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    await expect(m.waitFor('ok', { signal: ac.signal })).rejects.toBeInstanceOf(AbortedError);
    m.stop();
  });
});

describe('PressureMonitor options', () => {
  const g = gauge('g');
  const cases: [string, Record<string, unknown>, string][] = [
    ['no signals', { signals: [] }, 'signals'],
    ['signals not an array', { signals: g.signal }, 'signals'],
    ['not a signal', { signals: [{ name: 'x' }] }, 'signals[0]'],
    ['duplicate names', { signals: [g.signal, gauge('g').signal] }, 'signals[1].name'],
    ['zero interval', { signals: [g.signal], intervalMs: 0 }, 'intervalMs'],
    ['infinite interval', { signals: [g.signal], intervalMs: Infinity }, 'intervalMs'],
    ['empty name', { signals: [g.signal], name: '' }, 'name'],
    ['autoscale without hook', { signals: [g.signal], autoscale: {} }, 'autoscale.onScale'],
    ['autoscale fractional delta', { signals: [g.signal], autoscale: { onScale: () => undefined, slowDelta: 1.5 } }, 'autoscale.slowDelta'],
    ['autoscale negative dwell', { signals: [g.signal], autoscale: { onScale: () => undefined, dwellMs: -1 } }, 'autoscale.dwellMs'],
    ['autoscale zero repeat', { signals: [g.signal], autoscale: { onScale: () => undefined, repeatMs: 0 } }, 'autoscale.repeatMs'],
  ];
  for (const [what, opts, option] of cases) {
    it(what, () => {
      let err: unknown;
      try {
        new PressureMonitor(opts as never);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidOptionError);
      expect((err as InvalidOptionError).option).toBe(option);
      expect((err as Error).message).toMatch(/expected .+, received /);
    });
  }
});
