// The broker-independent rules, on the virtual clock: producer throttle, prefetch window,
// failure policy, desired consumers, lag monitor.
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, RejectedError, VirtualClock, flushMicrotasks } from '../../src/core/index.js';
import { FailurePolicy, LagMonitor, PrefetchWindow, ProducerThrottle, desiredConsumers } from '../../src/brokers/index.js';
import { HeldBytes } from '../../src/brokers/held-bytes.js';

describe('ProducerThrottle', () => {
  const make = (lag: { v: number }, clock: VirtualClock, extra = {}): ProducerThrottle =>
    new ProducerThrottle({ read: () => lag.v, slowAt: 100, rejectAt: 200, hysteresis: 20, maxDelayMs: 100, maxWaiting: 3, retryAfterMs: 500, clock, ...extra });

  it('ok admits at once; reject refuses with overloaded and retryAfterMs; hysteresis holds the level inside the band', async () => {
    const clock = new VirtualClock();
    const lag = { v: 0 };
    const t = make(lag, clock);
    await t.admit();
    expect(t.level).toBe('ok');
    lag.v = 250;
    const err = await t.admit().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RejectedError);
    expect(err).toMatchObject({ reason: 'overloaded', retryAfterMs: 500, gate: 'producer-throttle' });
    lag.v = 190; // inside [rejectAt − hysteresis, rejectAt]: still reject
    await expect(t.admit()).rejects.toMatchObject({ reason: 'overloaded' });
    lag.v = 170; // below the reject band, above slowAt: slow
    const p = t.admit();
    await flushMicrotasks();
    await p;
    expect(t.level).toBe('slow');
    lag.v = 90; // inside [slowAt − hysteresis, slowAt]: still slow
    const q = t.admit();
    await clock.tick(1000);
    await q;
    expect(t.level).toBe('slow');
    lag.v = 50;
    await t.admit();
    expect(t.level).toBe('ok');
    expect(t.stats()).toMatchObject({ rejected: 2 });
  });

  it('slow spaces admissions by maxDelayMs × pressure, one at a time, whatever the number of callers', async () => {
    const clock = new VirtualClock();
    const lag = { v: 150 }; // pressure 0.5 → one admission per 50 ms
    const t = make(lag, clock, { maxWaiting: 100 });
    const admittedAt: number[] = [];
    const calls = Array.from({ length: 5 }, () => t.admit().then(() => admittedAt.push(clock.now())));
    await clock.tick(1000);
    await Promise.all(calls);
    expect(admittedAt).toEqual([0, 50, 100, 150, 200]);
  });

  it('bounds the callers waiting while slow: past maxWaiting, queue_full at once', async () => {
    const clock = new VirtualClock();
    const t = make({ v: 200 }, clock); // at the reject watermark, not above it: slow, full pressure
    const waiting = [t.admit(), t.admit(), t.admit(), t.admit()];
    const extra = t.admit().catch((e: RejectedError) => e.reason);
    expect(await extra).toBe('queue_full');
    expect(t.stats().waiting).toBe(3);
    await clock.tick(1000);
    await Promise.all(waiting);
  });

  it('rejects watermarks that cannot work, naming the option', () => {
    expect(() => new ProducerThrottle({ read: () => 0, slowAt: 10, rejectAt: 5 })).toThrow(InvalidOptionError);
    expect(() => new ProducerThrottle({ read: () => 0, slowAt: 10, rejectAt: 5 })).toThrow('producer-throttle.rejectAt: expected a number > slowAt (10), received 5');
    expect(() => new ProducerThrottle({ read: () => 0, slowAt: 1, rejectAt: 5, maxWaiting: -1 })).toThrow('maxWaiting');
  });
});

describe('PrefetchWindow', () => {
  it('rises to demand at once and follows the processing rate each interval, within [min, max]', () => {
    const clock = new VirtualClock();
    const w = new PrefetchWindow({ min: 2, max: 100, bufferMs: 1000, intervalMs: 1000 }, 'prefetch', clock);
    expect(w.value).toBe(2);
    expect(w.update(10)).toBe(10);
    for (let i = 0; i < 50; i++) w.settled();
    clock.advance(1000);
    expect(w.update(1)).toBe(50); // 50/s × 1 s
    for (let i = 0; i < 500; i++) w.settled();
    clock.advance(1000);
    expect(w.update(1)).toBe(100); // capped at max
    clock.advance(1000);
    expect(w.update(1)).toBe(2); // nothing settled: back to min
  });

  it('a fixed prefetch never changes', () => {
    const w = new PrefetchWindow(16);
    expect(w.update(1000)).toBeUndefined();
    expect(w.value).toBe(16);
    expect(() => new PrefetchWindow(0)).toThrow('prefetch: expected an integer in [1, 65535], received 0');
  });
});

describe('PrefetchWindow ceiling and HeldBytes (maxHeldBytes)', () => {
  it('a ceiling holds the prefetch below demand at once, never below 1; lifted, it rises to demand again', () => {
    const w = new PrefetchWindow({ min: 2, max: 100 }, 'prefetch', new VirtualClock());
    expect(w.update(16, 4)).toBe(4);
    expect(w.update(16, 0)).toBe(1);
    expect(w.update(16)).toBe(16);
  });

  it('the ceiling is what fits in the bytes left at the average size seen; unbounded without maxBytes', () => {
    const h = new HeldBytes(1000);
    expect(h.ceiling(0)).toBe(1); // nothing seen yet: one, to learn the size
    h.took(250);
    expect(h.ceiling(1)).toBe(4); // 1 held + 750 B left / 250 B
    h.took(250);
    h.took(250);
    h.took(250);
    expect(h.ceiling(4)).toBe(4); // full: no more than what is held
    h.took(400); // over, by the one bigger than the average
    expect(h.ceiling(5)).toBe(5);
    h.released(400);
    h.released(250);
    expect(h.bytes).toBe(750);
    expect(h.ceiling(3)).toBe(3); // 250 B left / 280 B average: none more yet
    expect(new HeldBytes(Infinity).ceiling(7)).toBe(Infinity);
  });
});

describe('FailurePolicy', () => {
  it('retries with exponential delays, then dead-letters with the error and the attempt count', () => {
    const p = new FailurePolicy({ maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 250 });
    expect(p.decide(1, new Error('x'))).toEqual({ action: 'retry', delayMs: 100 });
    expect(p.decide(2, new Error('x'))).toEqual({ action: 'retry', delayMs: 200 });
    expect(p.decide(3, new Error('x'))).toEqual({ action: 'retry', delayMs: 250 });
    expect(p.decide(4, new RangeError('bad\nline'))).toEqual({ action: 'dead-letter', reason: 'RangeError: bad line (attempt 4 of 4)' });
    expect(p.decide(9, 'a string')).toEqual({ action: 'dead-letter', reason: 'thrown: a string (attempt 9 of 4)' });
    expect(() => new FailurePolicy({ baseDelayMs: 10, maxDelayMs: 5 })).toThrow('onFailure.maxDelayMs: expected a number >= baseDelayMs (10), received 5');
  });
});

describe('desiredConsumers', () => {
  const base = { lag: 0, growthPerSec: 0, processedPerSec: 100, consumers: 2, drainSeconds: 60, min: 1, max: 20 };
  it('keeps up with arrivals and drains the lag within drainSeconds', () => {
    expect(desiredConsumers(base)).toBe(2); // 100/s arrive, 50/s per consumer
    expect(desiredConsumers({ ...base, growthPerSec: 100 })).toBe(4); // 200/s arrive
    expect(desiredConsumers({ ...base, lag: 6000 })).toBe(4); // + 100/s to drain 6000 in 60 s
    expect(desiredConsumers({ ...base, lag: 1e9 })).toBe(20);
    expect(desiredConsumers({ ...base, processedPerSec: 0, lag: 10 })).toBe(20);
    expect(desiredConsumers({ ...base, processedPerSec: 0 })).toBe(1);
  });
});

describe('LagMonitor', () => {
  it('reads every interval, never overlapping; keeps the last good value and the growth rate', async () => {
    const clock = new VirtualClock();
    const values = [10, 30, Number.NaN, 70];
    let reads = 0;
    const m = new LagMonitor({ name: 'q', lag: async () => {
      const v = values[reads++];
      if (Number.isNaN(v)) throw new Error('broker hiccup');
      return v!;
    } }, { intervalMs: 1000, clock });
    await m.start();
    expect(m.lag).toBe(10);
    await clock.tick(1000);
    expect(m.reading).toMatchObject({ lag: 30, growthPerSec: 20 });
    await clock.tick(1000);
    expect(m.reading).toMatchObject({ lag: 30, failedReads: 1 });
    await clock.tick(1000);
    expect(m.reading).toMatchObject({ lag: 70, growthPerSec: 20 });
    const sig = m.signal({ slowAt: 50, rejectAt: 100 });
    expect(sig.read()).toBe(70);
    m.stop();
    await clock.tick(5000);
    expect(reads).toBe(4);
  });
});
