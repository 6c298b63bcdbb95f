// When refused connections are paused: only while the event loop is saturated (ELU above
// server.pauseRefusedLoad), with hysteresis and a dwell. Injected loop times and clock: no
// real load, no timing.
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LoopSaturation } from '../../src/gateway/loop-saturation.js';
import { RefusalPacer } from '../../src/gateway/refusal-pacer.js';

/** Loop times advanced by hand: `run(activeMs, idleMs)` adds one interval's worth. */
function fakeLoop(): { source: () => { idle: number; active: number }; run: (active: number, idle: number) => void; now: () => number } {
  let idle = 0;
  let active = 0;
  let t = 0;
  return {
    source: () => ({ idle, active }),
    now: () => t,
    run: (a, i) => {
      active += a;
      idle += i;
      t += a + i;
    },
  };
}

const made: LoopSaturation[] = [];
afterEach(() => made.splice(0).forEach((l) => l.stop()));
function saturation(threshold: number, loop: ReturnType<typeof fakeLoop>): LoopSaturation {
  const l = new LoopSaturation({ threshold, source: loop.source, now: loop.now, intervalMs: 60_000, dwellMs: 1000 });
  made.push(l);
  return l;
}

describe('LoopSaturation', () => {
  it('engages above the threshold at once, holds through a reading inside the band and for the dwell, then releases', () => {
    const loop = fakeLoop();
    const s = saturation(0.9, loop);
    expect(s.saturated).toBe(false);
    loop.run(80, 20); // 0.8
    s.sample();
    expect(s.saturated).toBe(false);
    loop.run(95, 5); // 0.95
    s.sample();
    expect(s.saturated).toBe(true);
    expect(s.utilization).toBeCloseTo(0.95);
    loop.run(85, 15); // 0.85: inside [0.8, 0.9], held
    s.sample();
    expect(s.saturated).toBe(true);
    loop.run(10, 90); // 0.1, but engaged only 200 ms ago: held for the dwell
    s.sample();
    expect(s.saturated).toBe(true);
    loop.run(10, 990); // 0.01, 1.2 s after engaging: released
    s.sample();
    expect(s.saturated).toBe(false);
  });

  it('threshold 0 is always saturated; a new threshold starts from "not saturated"', () => {
    const loop = fakeLoop();
    const s = saturation(0, loop);
    expect(s.saturated).toBe(true);
    s.threshold = 0.5;
    expect(s.saturated).toBe(false);
    loop.run(60, 40);
    s.sample();
    expect(s.saturated).toBe(true);
  });
});

describe('LoopSaturation when idle', () => {
  afterEach(() => vi.useRealTimers());

  it('reads the loop once a second while no request comes, every 100 ms again from the first reading that sees one', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    let reads = 0;
    let idle = 0;
    const counts = { requests: 0, rejected: 0 };
    // Idle loop times that advance with the virtual clock.
    const source = (): { idle: number; active: number } => (reads++, (idle = Date.now()), { idle, active: 0 });
    const l = new LoopSaturation({ threshold: 0.9, source, now: () => Date.now(), intervalMs: 100, dwellMs: 1000, answers: () => counts });
    made.push(l);
    vi.advanceTimersByTime(1_000);
    const idleStart = reads;
    vi.advanceTimersByTime(10_000);
    expect(reads - idleStart).toBeLessThanOrEqual(11);
    // Requests come, none refused: the next idle reading sees them, and from there every 100 ms.
    const traffic = (ms: number): void => {
      for (let t = 0; t < ms; t += 50) {
        counts.requests += 5;
        vi.advanceTimersByTime(50);
      }
    };
    traffic(1_000);
    const busyStart = reads;
    traffic(1_000);
    expect(reads - busyStart).toBeGreaterThanOrEqual(9);
    // Quiet again: back to once a second.
    vi.advanceTimersByTime(1_000);
    const quiet = reads;
    vi.advanceTimersByTime(10_000);
    expect(reads - quiet).toBeLessThanOrEqual(11);
    // A refusal asks at once, whatever the period.
    expect(l.saturated).toBe(false);
  });
});

describe('LoopSaturation read while its timer cannot run', () => {
  afterEach(() => vi.useRealTimers());

  it('a reading older than the interval is taken when `saturated` is asked: a storm that holds the loop in one poll phase (timers wait) still engages pausing', () => {
    vi.useFakeTimers(); // the interval's timer never fires here: as in a poll phase that lasts seconds
    const loop = fakeLoop();
    const counts = { requests: 0, rejected: 0 };
    const l = new LoopSaturation({ threshold: 0.9, source: loop.source, now: loop.now, intervalMs: 100, dwellMs: 1000, answers: () => counts });
    made.push(l);
    expect(l.saturated).toBe(false); // the first reading: nothing yet
    counts.requests += 100;
    counts.rejected += 90; // under the 100 refusals that take a reading at once (a storm's onset, below)
    loop.run(60, 0); // under an interval since the last reading: not read again
    expect(l.saturated).toBe(false);
    loop.run(40, 0); // an interval since: read again, saturated and 90% refused
    expect(l.saturated).toBe(true);
    expect(l.utilization).toBe(1);
  });
});

describe('LoopSaturation with the gateway\'s counters: pausing only while refusals fill the loop', () => {
  it('a saturated loop busy with admitted work is not engaged; it is once half of the last second\'s requests are refused, and released below a quarter', () => {
    const { l, tick } = countedSaturation();
    for (let i = 0; i < 10; i++) tick(200, 12); // 6% refused: the loop is full of admitted work
    expect(l.saturated).toBe(false);
    for (let i = 0; i < 10; i++) tick(500, 300); // a storm: 60% refused over the last second
    expect(l.refusedShare).toBeCloseTo(0.6, 5);
    expect(l.saturated).toBe(true);
    for (let i = 0; i < 10; i++) tick(500, 200); // paced: 40% — below the threshold, above half of it: held
    expect(l.saturated).toBe(true);
    for (let i = 0; i < 10; i++) tick(500, 100); // 20%: released
    expect(l.saturated).toBe(false);
    // Threshold 0 stays "always", whatever the share.
    l.threshold = 0;
    expect(l.saturated).toBe(true);
  });
});

describe('LoopSaturation at a storm\'s onset', () => {
  it('a reading with 3/4 of its requests refused, 100 or more, engages at once, though the last second was admitted work; a few refusals do not', () => {
    const { l, tick } = countedSaturation();
    for (let i = 0; i < 10; i++) tick(200, 0); // a second of admitted work (wrk's warm-up at 100 connections)
    tick(40, 40); // a burst of a few refusals: no storm
    expect(l.saturated).toBe(false);
    // 2,000 connections arrive at once: 100 ms of first refusals (closed loop, 2,000 connections: 1,300
    // refused unpaced in the 300 ms before the second's share reached half, every one re-sent at once).
    tick(180, 133);
    expect(l.refusedShare).toBeLessThan(0.5);
    expect(l.saturated).toBe(true);
  });
});

describe('LoopSaturation at a storm\'s onset after an idle spell', () => {
  it('engages once 100 refusals came since the last reading, 10 ms or more after it, not at the interval; engaged, it reads at the interval', () => {
    const loop = fakeLoop();
    const counts = { requests: 0, rejected: 0 };
    const l = new LoopSaturation({ threshold: 0.9, source: loop.source, now: loop.now, intervalMs: 100, dwellMs: 1000, answers: () => counts });
    made.push(l);
    loop.run(0, 5_000); // idle
    counts.requests += 1;
    counts.rejected += 1;
    expect(l.saturated).toBe(false); // the first refusal: its reading measures the idle spell
    counts.requests += 99;
    counts.rejected += 99;
    loop.run(10, 0); // 99 refusals more, 10 ms of a loop that runs them back to back: not yet 100
    expect(l.saturated).toBe(false);
    counts.requests += 1;
    counts.rejected += 1;
    expect(l.saturated).toBe(true); // 100 since the last reading, 10 ms after it
    expect(l.utilization).toBe(1);
    const share = l.refusedShare;
    counts.requests += 1_000; // engaged: 400 refusals in 20 ms do not take a reading before the interval
    counts.rejected += 400;
    loop.run(20, 0);
    expect(l.saturated).toBe(true);
    expect(l.refusedShare).toBe(share);
    loop.run(80, 0);
    expect(l.saturated).toBe(true);
    expect(l.refusedShare).toBeLessThan(share); // read at the interval
  });
});

/** A saturation (threshold 0.9) reading the gateway's counters, sampled by hand; `tick` is 100 ms of a saturated loop with those requests and refusals. */
function countedSaturation(): { l: LoopSaturation; tick: (requests: number, rejected: number) => void } {
  const loop = fakeLoop();
  const counts = { requests: 0, rejected: 0 };
  const l = new LoopSaturation({ threshold: 0.9, source: loop.source, now: loop.now, intervalMs: 60_000, dwellMs: 1000, answers: () => counts });
  made.push(l);
  const tick = (requests: number, rejected: number): void => {
    counts.requests += requests;
    counts.rejected += rejected;
    loop.run(100, 0); // saturated throughout
    l.sample();
  };
  return { l, tick };
}

/** A saturation reading the gateway's counters and a pacer's held count; `tick` is 100 ms of `active` ms busy with those requests and refusals. */
function heldSaturation(): { l: LoopSaturation; tick: (active: number, requests: number, rejected: number) => void; hold: (n: number) => void } {
  const loop = fakeLoop();
  const counts = { requests: 0, rejected: 0 };
  let held = 0;
  const l = new LoopSaturation({ threshold: 0.9, source: loop.source, now: loop.now, intervalMs: 60_000, dwellMs: 1000, answers: () => counts, holding: () => held > 0 });
  made.push(l);
  const tick = (active: number, requests: number, rejected: number): void => {
    counts.requests += requests;
    counts.rejected += rejected;
    loop.run(active, 100 - active);
    l.sample();
  };
  return { l, tick, hold: (n) => void (held = n) };
}

describe('LoopSaturation while the pacer holds connections paused', () => {
  it('a low ELU does not release pausing while connections are held paused (pausing took the load off); it does once none is, and so does the share', () => {
    const { l, tick, hold } = heldSaturation();
    for (let i = 0; i < 10; i++) tick(100, 500, 300); // a storm: saturated, 60% refused
    expect(l.saturated).toBe(true);
    hold(1_900); // the pacer pauses the storm's connections
    for (let i = 0; i < 20; i++) tick(50, 400, 200); // paced: ELU 0.5 for 2 s, past the dwell; 50% refused
    expect(l.utilization).toBeCloseTo(0.5);
    expect(l.saturated).toBe(true); // held: released, the storm would come back unpaced
    hold(0); // the pauses ran out and nothing was refused to pause again
    tick(50, 400, 200);
    expect(l.saturated).toBe(false);
    // Engaged again by the ELU; held; released by the share once nothing is held.
    for (let i = 0; i < 10; i++) tick(100, 500, 300);
    hold(10);
    expect(l.saturated).toBe(true);
    for (let i = 0; i < 10; i++) tick(50, 500, 50); // 10% refused, but connections still held
    expect(l.saturated).toBe(true);
    hold(0); // the storm is over: the pauses ran out, nothing refused to pause again
    tick(50, 500, 50);
    expect(l.saturated).toBe(false);
  });

  it('pausing lowers the refused share below a quarter (500 wrk connections): held, the share does not release it', () => {
    const { l, tick, hold } = heldSaturation();
    for (let i = 0; i < 10; i++) tick(95, 420, 220); // unpaced: 52% refused, the loop saturated
    expect(l.saturated).toBe(true);
    hold(450); // the pacer holds the storm's connections
    for (let i = 0; i < 30; i++) tick(60, 250, 43); // paced: 17% refused, ELU 0.6, for 3 s
    expect(l.refusedShare).toBeLessThan(0.25);
    expect(l.saturated).toBe(true);
  });

  it('without a pacer to ask (no `holding`), a low ELU past the dwell releases as before', () => {
    const loop = fakeLoop();
    const s = saturation(0.9, loop);
    loop.run(95, 5);
    s.sample();
    expect(s.saturated).toBe(true);
    loop.run(10, 1990); // 2 s at 0.005
    s.sample();
    expect(s.saturated).toBe(false);
  });
});

/** A socket as the pacer sees it: a handle that counts readStop/readStart. */
function fakeSocket(): Omit<Socket, 'destroyed'> & { destroyed: boolean; reading: boolean; starts: number } {
  const s = {
    destroyed: false,
    reading: true,
    starts: 0,
    remoteAddress: '203.0.113.9',
    _handle: {
      readStop: () => ((s.reading = false), 0),
      readStart: () => ((s.reading = true), s.starts++, 0),
    },
    once: () => s,
  };
  return s as unknown as Omit<Socket, 'destroyed'> & { destroyed: boolean; reading: boolean; starts: number };
}

describe('RefusalPacer', () => {
  afterEach(() => vi.useRealTimers());

  it('pauses nothing while the loop is not saturated', () => {
    let saturated = false;
    const pacer = new RefusalPacer(1000, { saturated: () => saturated });
    const a = fakeSocket();
    pacer.refused(a as Socket, 1000, undefined);
    expect(a.reading).toBe(true);
    expect(pacer.engaged).toBe(false);
    saturated = true;
    expect(pacer.engaged).toBe(true);
    pacer.refused(a as Socket, 1000, undefined);
    expect(a.reading).toBe(false);
    expect(pacer.total).toBe(1);
    pacer.resumeAll();
    expect(a.reading).toBe(true);
  });

  it('shortens a pause by at most a quarter (jitter), never lengthens it; capped at maxPauseMs', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate'] });
    for (const [random, retryMs, endsAt] of [
      [0, 400, 400],
      [0.999, 400, 300.1],
      [0, 5000, 1000],
    ] as const) {
      const pacer = new RefusalPacer(1000, { random: () => random });
      const s = fakeSocket();
      pacer.pause(s as Socket, retryMs);
      vi.advanceTimersByTime(Math.floor(endsAt) - 1);
      expect(s.reading).toBe(false);
      vi.advanceTimersByTime(2); // the pause ends; the socket is read in the next turn
      vi.advanceTimersByTime(0);
      expect(s.reading).toBe(true);
    }
  });

  it('reads connections whose pauses end together back at most resumePerTurn per loop turn, oldest first', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate'] });
    const pacer = new RefusalPacer(1000, { random: () => 0, resumePerTurn: 3 });
    const sockets = Array.from({ length: 8 }, fakeSocket);
    for (const s of sockets) pacer.pause(s as Socket, 5);
    sockets[1]!.destroyed = true; // gone meanwhile: skipped, costs no place in the batch
    vi.advanceTimersByTime(5); // every pause ends; the first batch runs in the next turn
    const reading = (): boolean[] => sockets.map((s) => s.reading);
    vi.advanceTimersToNextTimer();
    expect(reading()).toEqual([true, false, true, true, false, false, false, false]);
    vi.advanceTimersToNextTimer();
    expect(reading()).toEqual([true, false, true, true, true, true, true, false]);
    vi.advanceTimersToNextTimer();
    expect(reading()).toEqual([true, false, true, true, true, true, true, true]);
    expect(pacer.paused).toBe(0);
  });
});
