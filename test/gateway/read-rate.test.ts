// The write timeout's rule and its enforcer in virtual time (read-rate.ts, read-watch.ts), and
// the parsing of the kernel's table (socket-progress.ts). The counts fed here are what the
// probe reports: bytes the client's TCP stack acknowledged, which move in steps of a receive
// window's update (64 KB on loopback) — the defect this guards came from counting whole
// socket writes instead, steps of a third of the send buffer (1.5 MB measured).
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/clock.js';
import { ReadWindow, tookEnough } from '../../src/gateway/read-rate.js';
import { ReadWatch, sweepMs } from '../../src/gateway/read-watch.js';
import type { ProgressProbe } from '../../src/gateway/socket-progress.js';
import { parseTable } from '../../src/gateway/socket-progress.js';

const S = 1000;

describe('tookEnough', () => {
  it('asks for some bytes always, and minBytesPerS × elapsed of them when a rate is set', () => {
    expect(tookEnough(0, 30 * S, 0)).toBe(false);
    expect(tookEnough(1, 30 * S, 0)).toBe(true);
    expect(tookEnough(30 * 1024, 30 * S, 1024)).toBe(true);
    expect(tookEnough(30 * 1024 - 1, 30 * S, 1024)).toBe(false);
  });
});

/** A client whose acknowledged count grows by `step` bytes every step/rate seconds, from `start` ms. */
function stepped(rateBps: number, step: number, start = 0): (now: number) => number {
  return (now) => Math.floor((Math.max(0, now - start) * rateBps) / 1000 / step) * step;
}

describe('ReadWindow', () => {
  it('a steady 20 KB/s reader seen in 64 KB steps is never cut at the defaults (30 s, 1 KB/s), over an hour', () => {
    const taken = stepped(20 * 1024, 64 * 1024);
    const w = new ReadWindow(30 * S, 1024, 0, 0);
    for (let t = 0; t <= 3600 * S; t += 250) expect(w.observe(t, taken(t))).toBe(true);
  });

  it('the same reader seen in whole socket writes (1.5 MB steps, the old signal) would fail a window: why the count is acknowledged bytes', () => {
    const taken = stepped(20 * 1024, 1536 * 1024);
    const w = new ReadWindow(30 * S, 1024, 0, 0);
    let cutAt: number | undefined;
    for (let t = 0; t <= 600 * S && cutAt === undefined; t += 250) if (!w.observe(t, taken(t))) cutAt = t;
    expect(cutAt).toBe(30 * S);
  });

  it('a reader under the rate is cut at the end of a window; the same reader with the rate off (0) is not', () => {
    const taken = stepped(512, 1024); // 0.5 KB/s in 1 KB steps
    const rated = new ReadWindow(30 * S, 1024, 0, 0);
    const off = new ReadWindow(30 * S, 0, 0, 0);
    let cutAt: number | undefined;
    for (let t = 0; t <= 600 * S; t += 250) {
      if (cutAt === undefined && !rated.observe(t, taken(t))) cutAt = t;
      expect(off.observe(t, taken(t))).toBe(true);
    }
    expect(cutAt).toBe(30 * S);
  });

  it('a client that stops is cut within two windows of its last byte, with or without a rate', () => {
    for (const rate of [0, 1024]) {
      const w = new ReadWindow(30 * S, rate, 0, 0);
      const taken = (now: number): number => Math.min(now, 40 * S) * 100; // 100 KB/s, then nothing from 40 s
      let cutAt: number | undefined;
      for (let t = 0; t <= 600 * S && cutAt === undefined; t += 250) if (!w.observe(t, taken(t))) cutAt = t;
      expect(cutAt).toBe(90 * S);
    }
  });
});

/** A probe over fake clients: their counts as functions of the clock; how often it was asked. */
function fakeProbe(clock: VirtualClock, clients: Map<string, (now: number) => number | undefined>): ProgressProbe<string> & { refreshes: number; reads: number } {
  return {
    refreshes: 0,
    reads: 0,
    refresh() {
      this.refreshes++;
    },
    taken(key) {
      this.reads++;
      return clients.get(key)?.(clock.now());
    },
  };
}

describe('ReadWatch (virtual time)', () => {
  it('samples every quarter window, at most every second', () => {
    expect(sweepMs(30 * S)).toBe(1000);
    expect(sweepMs(2 * S)).toBe(500);
    expect(sweepMs(1)).toBe(1);
  });

  it('cuts a non-reader about writeTimeout after its watch began, and keeps a steady reader for ten minutes', () => {
    const clock = new VirtualClock();
    const clients = new Map<string, (now: number) => number | undefined>([
      ['idle', () => 0],
      ['steady', stepped(20 * 1024, 64 * 1024)],
    ]);
    const probe = fakeProbe(clock, clients);
    const watch = new ReadWatch({ windowMs: 30 * S, minBytesPerS: 1024, probe, clock });
    const cuts: [string, number][] = [];
    watch.watch('idle', () => cuts.push(['idle', clock.now()]));
    const unwatch = watch.watch('steady', () => cuts.push(['steady', clock.now()]));
    clock.advance(600 * S);
    // The window starts at the second sweep (2 s: pending for a whole sweep), ends 30 s later.
    expect(cuts).toEqual([['idle', 32 * S]]);
    expect(watch.size).toBe(1);
    unwatch();
    expect(watch.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('reads counts only in sweeps where a window starts or ends (the kernel table is read then)', () => {
    const clock = new VirtualClock();
    const probe = fakeProbe(clock, new Map([['steady', stepped(20 * 1024, 64 * 1024)]]));
    const watch = new ReadWatch({ windowMs: 30 * S, minBytesPerS: 1024, probe, clock });
    watch.watch('steady', () => undefined);
    clock.advance(302 * S); // the start (2 s) and ten window ends
    expect(probe.reads).toBe(11);
    expect(probe.refreshes).toBe(302);
  });

  it('a client that takes all that is pending within a sweep costs no count read', () => {
    const clock = new VirtualClock();
    const probe = fakeProbe(clock, new Map([['fast', () => 0]]));
    const watch = new ReadWatch({ windowMs: 30 * S, minBytesPerS: 1024, probe, clock });
    for (let i = 0; i < 100; i++) {
      const unwatch = watch.watch('fast', () => undefined);
      clock.advance(i % 2 === 0 ? 400 : 900); // then drained: it took all there was
      unwatch();
    }
    expect(probe.reads).toBe(0);
  });

  it('a count not known (the socket gone from the table) is no verdict: the window is judged at the next known one', () => {
    const clock = new VirtualClock();
    let known = true;
    const probe = fakeProbe(clock, new Map([['c', (now: number) => (known ? Math.floor(now / 1000) * 2048 : undefined)]]));
    const watch = new ReadWatch({ windowMs: 2 * S, minBytesPerS: 1024, probe, clock });
    let cut = 0;
    watch.watch('c', () => cut++);
    clock.advance(1 * S);
    known = false;
    clock.advance(10 * S);
    expect(cut).toBe(0);
    known = true;
    clock.advance(10 * S);
    expect(cut).toBe(0);
  });

  it('a cut happens once, and ends the watch and its timer', () => {
    const clock = new VirtualClock();
    const probe = fakeProbe(clock, new Map([['idle', () => 5]]));
    const watch = new ReadWatch({ windowMs: 2 * S, minBytesPerS: 0, probe, clock });
    let cut = 0;
    watch.watch('idle', () => cut++);
    clock.advance(60 * S);
    expect(cut).toBe(1);
    expect(watch.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('parseTable', () => {
  it("reads each line's tx_queue (hex) by inode, skipping the header", () => {
    const text = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 6777 1 0000000000000000 100 0 0 10 0',
      '   1: 0100007F:1F90 0100007F:D2A4 01 0039E000:00000000 01:00000014 00000000  1000        0 233758 2 0000000000000000 20 4 30 10 -1',
      '',
    ].join('\n');
    const into = new Map<string, number>();
    parseTable(text, into);
    expect(into).toEqual(
      new Map([
        ['6777', 0],
        ['233758', 0x39e000],
      ]),
    );
  });
});
