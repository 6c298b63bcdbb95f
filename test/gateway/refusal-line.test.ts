// The line of connections paused for a capacity refusal (refusal-pacer.ts): `wake` reads the
// longest-paused first and only capacity refusals; `lineMs` is how long the line takes at the
// rate permits ended lately. Virtual time and stand-in sockets with the handle calls the pacer uses.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { VirtualClock } from '../../src/core/clock.js';
import { RefusalPacer } from '../../src/gateway/refusal-pacer.js';

/** A socket as far as the pacer reads it: close events, and a handle whose reads start and stop. */
function fakeSocket(): Socket & { reading: boolean } {
  const s = new EventEmitter() as unknown as Socket & { reading: boolean; destroyed: boolean; _handle: unknown };
  s.reading = true;
  s.destroyed = false;
  s._handle = { readStop: () => ((s.reading = false), 0), readStart: () => ((s.reading = true), 0) };
  return s;
}

const pacerAt = (clock: VirtualClock): RefusalPacer => new RefusalPacer(60_000, { random: () => 0, now: () => clock.now() });

describe('refusal pacer: the line of capacity refusals', () => {
  it('wake reads the longest-paused capacity refusals first, at most n, and never a rate refusal', () => {
    const clock = new VirtualClock();
    const pacer = pacerAt(clock);
    const [a, b, rate, c] = [fakeSocket(), fakeSocket(), fakeSocket(), fakeSocket()];
    pacer.pause(a, 30_000, true);
    pacer.pause(b, 30_000, true);
    pacer.pause(rate, 30_000, false);
    pacer.pause(c, 30_000, true);
    pacer.pause(a, 30_000, true); // refused again: to the back of the line
    expect([a, b, rate, c].map((s) => s.reading)).toEqual([false, false, false, false]);
    expect(pacer.wakeable).toBe(3);
    expect(pacer.wake(2)).toBe(2);
    expect([a, b, rate, c].map((s) => s.reading)).toEqual([false, true, false, true]);
    expect(pacer.wake(5)).toBe(1);
    expect(a.reading).toBe(true);
    expect(pacer.wake(5)).toBe(0);
    expect(rate.reading).toBe(false);
    expect(pacer).toMatchObject({ paused: 1, woken: 3, wakeable: 0 });
  });

  it('a closed connection leaves the line; one whose pause ran out is not woken twice', () => {
    const clock = new VirtualClock();
    const pacer = pacerAt(clock);
    const [gone, served] = [fakeSocket(), fakeSocket()];
    pacer.pause(gone, 30_000, true);
    pacer.pause(served, 30_000, true);
    gone.emit('close');
    pacer.resume(served);
    expect(pacer.wakeable).toBe(0);
    expect(pacer.wake(1)).toBe(0);
    expect(pacer.woken).toBe(0);
  });

  it('lineMs: the line over the rate permits ended in the last window and this one; 0 with no line or nothing served', () => {
    const clock = new VirtualClock();
    const pacer = pacerAt(clock);
    expect(pacer.lineMs()).toBe(0);
    for (let i = 0; i < 100; i++) pacer.pause(fakeSocket(), 30_000, true);
    expect(pacer.lineMs()).toBe(0); // nothing served yet: no rate to judge by
    // 1,000 permits over a 500 ms window: 2 per ms.
    for (let i = 0; i < 1000; i++) {
      pacer.served();
      clock.advance(0.5);
    }
    // The window just closed and a new one began: 1,000 over 500 ms, so 100 connections are 50 ms of line.
    expect(pacer.lineMs()).toBeCloseTo(50, 5);
    // 250 ms into the new window with 250 more: 1,250 over 750 ms.
    for (let i = 0; i < 250; i++) {
      pacer.served();
      clock.advance(1);
    }
    expect(pacer.lineMs()).toBeCloseTo(100 / (1250 / 750), 5);
    // A whole idle window and more: the rate is forgotten, not carried on.
    clock.advance(1_200);
    expect(pacer.lineMs()).toBe(0);
    pacer.served();
    expect(pacer.lineMs()).toBeGreaterThan(0);
  });
});

describe('refusal pacer: what its counters tell apart', () => {
  it('repaused counts pauses of a connection paused before; unpaced, refusals while not engaged; ranOut, pauses ended by their timer, not by wake', () => {
    vi.useFakeTimers();
    try {
      let saturated = true;
      const pacer = new RefusalPacer(1000, { random: () => 0, saturated: () => saturated });
      const [a, b, c] = [fakeSocket(), fakeSocket(), fakeSocket()];
      pacer.refused(a, 1000, undefined, true);
      pacer.refused(b, 1000, undefined, true);
      saturated = false;
      pacer.refused(c, 1000, undefined, true);
      expect(c.reading).toBe(true);
      saturated = true;
      expect(pacer.wake(1)).toBe(1); // a, woken
      pacer.refused(a, 1000, undefined, true);
      expect(pacer).toMatchObject({ total: 3, repaused: 1, unpaced: 1, woken: 1, ranOut: 0, paused: 2 });
      vi.runAllTimers(); // the pauses' timers, then the resume batch's setImmediate
      expect([a.reading, b.reading]).toEqual([true, true]);
      expect(pacer).toMatchObject({ ranOut: 2, woken: 1, paused: 0 });
    } finally {
      vi.useRealTimers();
    }
  });
});
