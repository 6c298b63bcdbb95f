// Refusal pacing after a storm (refusal-pacing.ts), the rule as it is: once engaged, pausing is
// held while any connection is paused — a storm that goes on, paced, keeps it, and so do
// refusals that trickle in after the storm for as long as their pauses overlap — and released at
// the first moment none is paused with the loop idle; refusals after that are answered unpaused. The pacer and its loop reading wired as the gateway wires
// them, with injected loop times, clock and timers: no load, no timing.
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { refusalPacing } from '../../src/gateway/refusal-pacing.js';
import type { RefusalPacer } from '../../src/gateway/refusal-pacer.js';

/** A socket as the pacer sees it; `onRead` runs when it is read again (a storm's client has its next request waiting). */
function fakeSocket(onRead?: (s: Socket) => void): Socket & { reading: boolean } {
  const s = {
    destroyed: false,
    reading: true,
    remoteAddress: '203.0.113.9',
    _handle: {
      readStop: () => ((s.reading = false), 0),
      readStart: () => ((s.reading = true), onRead?.(s as unknown as Socket), 0),
    },
    once: () => s,
  };
  return s as unknown as Socket & { reading: boolean };
}

/** The gateway's pacing (1 s pauses, engaged at ELU 0.9) on a hand-run loop: `tick` is 100 ms of it. */
function pacing(): { pacer: RefusalPacer; engaged: () => boolean; tick: (busyMs: number, requests: number, rejected: number) => void; stop: () => void } {
  let t = 0;
  let active = 0;
  let idle = 0;
  const counts = { requests: 0, rejected: 0 };
  const { loop, pacer } = refusalPacing({ pauseRefusedMs: 1000, pauseRefusedLoad: 0.9 }, () => counts, { source: () => ({ active, idle }), now: () => t, random: () => 0.5, intervalMs: 60_000 });
  return {
    pacer,
    engaged: () => pacer.engaged,
    tick: (busyMs, requests, rejected) => {
      counts.requests += requests;
      counts.rejected += rejected;
      active += busyMs;
      idle += 100 - busyMs;
      t += 100;
      vi.advanceTimersByTime(100); // pauses that end are read again in the next turn
      vi.advanceTimersByTime(0);
      loop.sample();
    },
    stop: () => loop.stop(),
  };
}

afterEach(() => vi.useRealTimers());

describe('refusal pacing after a storm', () => {
  it('a storm that goes on, paced — its connections refused again the instant they are read — keeps pausing engaged though the loop reads idle', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    const p = pacing();
    for (let i = 0; i < 10; i++) p.tick(100, 500, 300);
    expect(p.engaged()).toBe(true);
    let refusedAgain = 0;
    const again = (s: Socket): void => {
      refusedAgain++;
      p.pacer.refused(s, 1000, undefined, true);
    };
    for (let i = 0; i < 200; i++) p.pacer.refused(fakeSocket(again), 1000, undefined, true);
    // Paced: the loop at 30%, a sixth of the requests refused, for 5 s.
    for (let i = 0; i < 50; i++) p.tick(30, 1200, 200);
    expect(refusedAgain).toBeGreaterThanOrEqual(600);
    expect(p.engaged()).toBe(true);
    expect(p.pacer.paused).toBe(200);
    expect(p.pacer.unpaced).toBe(0);
    p.stop();
  });

  it('refusals trickling in after the storm hold pausing while their pauses overlap; the first moment none is paused releases it, and what comes later is answered unpaused', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'clearImmediate'] });
    const p = pacing();
    for (let i = 0; i < 10; i++) p.tick(100, 500, 300);
    for (let i = 0; i < 200; i++) p.pacer.refused(fakeSocket(), 1000, undefined, true);
    // The storm ends; 2 refusals a second, each a client of its own paused up to 1 s: pauses overlap.
    const refuseOne = (): Socket & { reading: boolean } => {
      const s = fakeSocket();
      p.pacer.refused(s, 1000, undefined, true);
      return s;
    };
    for (let i = 0; i < 100; i++) {
      p.tick(10, 20, i % 5 === 0 ? 1 : 0);
      if (i % 5 === 0) refuseOne();
    }
    // 10 s on, the loop idle: held by the trickle's own pauses.
    expect(p.engaged()).toBe(true);
    expect(p.pacer.paused).toBeGreaterThan(0);
    // A gap: 2 s without a refusal, every pause runs out; the next refusal finds none and is not paused.
    for (let i = 0; i < 20; i++) p.tick(10, 20, 0);
    expect(p.pacer.paused).toBe(0);
    const late = refuseOne();
    expect(late.reading).toBe(true);
    expect(p.engaged()).toBe(false);
    expect(p.pacer.unpaced).toBe(1);
    p.stop();
  });
});
