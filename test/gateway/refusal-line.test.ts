// The line of connections paused for a capacity refusal (refusal-pacer.ts): `wake` reads the
// longest-paused first and only capacity refusals; `lineMs` is how long the line takes at the
// rate permits ended lately; a capacity refusal's pause follows it (`capacityWait`):
// server.pauseRefused for a short line, the line's length for a longer one, at most half the
// keep-alive timeout, and Retry-After says the same wait in whole seconds. Virtual time for the
// served rate, fake timers for the pauses, stand-in sockets with the handle calls the pacer uses.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
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

const SERVER = { pauseRefusedMs: 1000, keepAliveTimeoutMs: 5000, headersTimeoutMs: 10_000 };

/** A pacer, engaged while `engaged.on`, with `line` connections paused for a capacity refusal and 2 permits ended per ms over the last window. */
function pacerWithLine(line: number, configure = true): { pacer: RefusalPacer; engaged: { on: boolean } } {
  const clock = new VirtualClock();
  const engaged = { on: true };
  const pacer = new RefusalPacer(SERVER.pauseRefusedMs, { random: () => 0, now: () => clock.now(), saturated: () => engaged.on });
  if (configure) pacer.configure(SERVER);
  for (let i = 0; i < line; i++) pacer.pause(fakeSocket(), 60_000, true);
  for (let i = 0; i < 1000; i++) {
    pacer.served();
    clock.advance(0.5);
  }
  return { pacer, engaged };
}

afterEach(() => void vi.useRealTimers());

describe('refusal pacer: a capacity refusal waits as long as the line', () => {
  it('a short line keeps server.pauseRefused and the gate\'s Retry-After', () => {
    expect(pacerWithLine(0).pacer.capacityWait(1)).toEqual({ retryS: 1, pauseMs: 1000 });
    expect(pacerWithLine(1500).pacer.capacityWait(1)).toEqual({ retryS: 1, pauseMs: 1000 }); // 750 ms of line
  });

  it('a line longer than pauseRefused: paused for the line, told it in whole seconds', () => {
    const { pacer } = pacerWithLine(3600); // 3,600 at 2 per ms: 1,800 ms
    expect(pacer.lineCapMs).toBe(2500);
    expect(pacer.capacityWait(1)).toEqual({ retryS: 2, pauseMs: 1800 });
    // The gate's own estimate is longer: the header keeps it, the pause still follows the line.
    expect(pacer.capacityWait(4)).toEqual({ retryS: 4, pauseMs: 1800 });
  });

  it('a line past half the keep-alive timeout: paused that long, no more', () => {
    const { pacer } = pacerWithLine(10_000); // 5,000 ms of line
    expect(pacer.capacityWait(1)).toEqual({ retryS: 3, pauseMs: 2500 });
  });

  it('not engaged: the gate\'s Retry-After and no lengthened pause; not configured: pauseRefused is the cap', () => {
    const a = pacerWithLine(3600);
    a.engaged.on = false;
    expect(a.pacer.capacityWait(1)).toEqual({ retryS: 1, pauseMs: 1000 });
    expect(pacerWithLine(3600, false).pacer.capacityWait(1)).toEqual({ retryS: 1, pauseMs: 1000 });
  });

  it('the connection stays paused for the line\'s length; a rate refusal still at most pauseRefused', () => {
    const { pacer } = pacerWithLine(3600);
    vi.useFakeTimers();
    const [capacity, rate] = [fakeSocket(), fakeSocket()];
    const { pauseMs } = pacer.capacityWait(1);
    pacer.refused(capacity, pauseMs, undefined, true);
    pacer.refused(rate, 1800, undefined, false);
    vi.advanceTimersByTime(1001);
    expect([capacity.reading, rate.reading]).toEqual([false, true]);
    vi.advanceTimersByTime(800);
    expect(capacity.reading).toBe(true);
  });
});

describe('refusal pacer: free slots wake the connections their gate refused (refillFrom)', () => {
  it('free slots that last a tick wake as many of their gate\'s paused connections, oldest first; never another gate\'s; never twice for one slot; never while permits end', () => {
    vi.useFakeTimers();
    const clock = new VirtualClock();
    const pacer = pacerAt(clock);
    const [g, h] = [{ gate: 'g' }, { gate: 'h' }];
    const rooms = new Map<object, number>([
      [g, 0],
      [h, 5],
    ]);
    pacer.refillFrom(() => rooms, 5);
    const ofG = Array.from({ length: 6 }, () => fakeSocket());
    const ofH = fakeSocket();
    for (const s of ofG) pacer.pause(s, 30_000, g);
    // h has room, but the connection it refused was a rate refusal's (not wakeable).
    pacer.pause(ofH, 30_000, false);
    vi.advanceTimersByTime(20);
    expect(pacer.paused).toBe(7);
    // Room for one tick only (a response, then the next queued request's grant): nobody woken.
    rooms.set(g, 3);
    vi.advanceTimersByTime(5);
    rooms.set(g, 0);
    vi.advanceTimersByTime(5);
    expect(pacer.woken).toBe(0);
    // g's lease grew by 2 slots: at the second tick that finds them free, two of its connections are read again, the longest-paused first.
    rooms.set(g, 2);
    vi.advanceTimersByTime(5);
    expect(pacer.woken).toBe(0);
    vi.advanceTimersByTime(5);
    expect(ofG.map((s) => s.reading)).toEqual([true, true, false, false, false, false]);
    // Their requests are not in yet at the next tick: the same 2 slots wake nobody more.
    vi.advanceTimersByTime(5);
    expect(pacer.wakeable).toBe(4);
    // Still free a tick later (they had nothing to send): the next two are read.
    vi.advanceTimersByTime(5);
    expect(ofG.map((s) => s.reading)).toEqual([true, true, true, true, false, false]);
    // A permit's end wakes one for the slot it frees: the tick after it wakes nobody (the gate is
    // not quiet); room at two quiet ticks after that, less what was woken meanwhile, does.
    rooms.set(g, 2);
    vi.advanceTimersByTime(4);
    pacer.permitEnded(0);
    expect(ofG[4]!.reading).toBe(true);
    vi.advanceTimersByTime(1);
    expect(ofG[5]!.reading).toBe(false);
    vi.advanceTimersByTime(5);
    expect(ofG[5]!.reading).toBe(false);
    vi.advanceTimersByTime(5);
    expect(ofG[5]!.reading).toBe(true);
    rooms.set(g, 0);
    vi.advanceTimersByTime(50);
    expect(pacer).toMatchObject({ wakeable: 0, woken: 6 });
    expect(ofH.reading).toBe(false);
  });
});
