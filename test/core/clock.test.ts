import { describe, expect, it } from 'vitest';
import { systemClock, VirtualClock } from '../../src/core/index.js';

describe('VirtualClock', () => {
  it('fires timers in time order, each at its due time', () => {
    const clock = new VirtualClock(100);
    const seen: [string, number][] = [];
    clock.setTimer(() => seen.push(['b', clock.now()]), 20);
    clock.setTimer(() => seen.push(['a', clock.now()]), 10);
    clock.setTimer(() => seen.push(['c', clock.now()]), 20);
    clock.advance(15);
    expect(seen).toEqual([['a', 110]]);
    expect(clock.now()).toBe(115);
    clock.advance(100);
    expect(seen).toEqual([['a', 110], ['b', 120], ['c', 120]]);
    expect(clock.now()).toBe(215);
  });

  it('runs timers scheduled by timers within the same advance', () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    clock.setTimer(() => {
      seen.push(clock.now());
      clock.setTimer(() => seen.push(clock.now()), 5);
    }, 5);
    clock.advance(10);
    expect(seen).toEqual([5, 10]);
  });

  it('cleared timers never fire; clearing twice is harmless', () => {
    const clock = new VirtualClock();
    let fired = 0;
    const t = clock.setTimer(() => fired++, 5);
    clock.setTimer(() => fired++, 6);
    clock.clearTimer(t);
    clock.clearTimer(t);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(10);
    expect(fired).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('tick lets promise continuations observe each timer time', async () => {
    const clock = new VirtualClock();
    const seen: number[] = [];
    const sleep = (ms: number) => new Promise<void>((r) => clock.setTimer(r, ms));
    const task = (async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(10);
        seen.push(clock.now());
      }
    })();
    await clock.tick(100);
    await task;
    expect(seen).toEqual([10, 20, 30]);
    expect(clock.now()).toBe(100);
  });

  it('runAll refuses a timer that reschedules itself forever', async () => {
    const clock = new VirtualClock();
    const loop = (): void => void clock.setTimer(loop, 1);
    loop();
    await expect(clock.runAll(50)).rejects.toThrow('more than 50 timers fired');
  });

  it('the system clock is monotonic and its timers fire', async () => {
    const a = systemClock.now();
    await new Promise<void>((r) => systemClock.setTimer(r, 1));
    expect(systemClock.now()).toBeGreaterThanOrEqual(a);
  });
});
