// A closed-loop row's onset and window apart (bench/gateway/closed-window.ts, wrk.ts): the row's
// figures are the steady state after wrk's connections arrived, the onset's reported beside them.
import { describe, expect, it } from 'vitest';
import { countBetween, onsetFacts, windowFacts } from '../../bench/gateway/closed-window.js';
import { parseWrkOutput, script } from '../../bench/gateway/wrk.js';
import type { WrkResult } from '../../bench/gateway/wrk.js';

const JSON_LINE = 'WRK-JSON {"durationUs":7000000,"requests":40000,"codes":{"200":14000,"503":25990,"502":10},"retryAfter":25990,"errors":{"connect":0,"read":1,"write":0,"timeout":2},"p50Us":900,"p99Us":41000}';

describe('parseWrkOutput', () => {
  it('reads the window wrk counted after `fromS`: its length from its start to done(), its answers by status and Retry-After', () => {
    const r = parseWrkOutput(`Running 7s test\n${JSON_LINE}\nWRK-WINDOW {"spanMs":5004.5,"codes":{"200":11000,"503":9000,"502":4},"retryAfter":8990}\n`, false);
    expect(r.seconds).toBe(7);
    expect(r.codes).toEqual({ 200: 14000, 503: 25990, 502: 10 });
    expect(r.window).toEqual({ seconds: 5.0045, codes: { 200: 11000, 503: 9000, 502: 4 }, retryAfter: 8990 });
    expect(r.p99).toBe(41);
  });

  it('no window without its line, nor when wrk ended before it opened (a negative span); no result is an error that quotes wrk', () => {
    expect(parseWrkOutput(JSON_LINE, false).window).toBeUndefined();
    expect(parseWrkOutput(`${JSON_LINE}\nWRK-WINDOW {"spanMs":-120.0,"codes":{},"retryAfter":0}`, false).window).toBeUndefined();
    expect(() => parseWrkOutput('unable to connect', false)).toThrow(/wrk printed no result: unable to connect/);
  });
});

describe('the wrk script', () => {
  it('counts a window apart only when given its start (CLOCK_MONOTONIC ms), reading the clock through the ffi', () => {
    const plain = script(false);
    expect(plain).not.toContain('sluice_from');
    expect(plain).not.toContain('ffi');
    const windowed = script(false, 123456.789);
    expect(windowed).toContain('local sluice_from = 123456.789');
    expect(windowed).toContain('clock_gettime');
    expect(windowed).toContain('WRK-WINDOW');
  });
});

const result = (over: Partial<WrkResult>): WrkResult => ({ seconds: 7, requests: 40000, codes: {}, retryAfter: 0, errors: { connect: 0, read: 0, write: 0, timeout: 0 }, p50: 1, p99: 40, ...over });

describe('windowFacts and onsetFacts', () => {
  it("the row's figures are the window's; the onset's are the whole run's less the window's, over the seconds before it", () => {
    const r = result({ codes: { 200: 14000, 503: 25990, 502: 10 }, retryAfter: 25990, window: { seconds: 5, codes: { 200: 11000, 503: 9000, 502: 4 }, retryAfter: 8990 } });
    expect(windowFacts(r)).toEqual({ seconds: 5, requests: 20004, good: 11000, refused: 9000, retryAfter: 8990, other: 4 });
    expect(onsetFacts(r)).toEqual({ seconds: 2, goodput: 1500, refusedPerS: 8495 });
  });

  it('without a window (no fromS): the whole run is the row, and there is no onset to report', () => {
    const r = result({ codes: { 200: 7000, 429: 70 }, retryAfter: 7 });
    expect(windowFacts(r)).toEqual({ seconds: 7, requests: 7070, good: 7000, refused: 70, retryAfter: 7, other: 0 });
    expect(onsetFacts(r)).toBeUndefined();
  });

  it('a window as long as the run leaves an onset of 0 s with no rates (not a division by zero)', () => {
    const o = onsetFacts(result({ seconds: 5, window: { seconds: 5, codes: {}, retryAfter: 0 } }));
    expect(o?.seconds).toBe(0);
    expect(o?.goodput).toBeNaN();
  });
});

describe('countBetween', () => {
  it('counts the times in [from, to)', () => {
    expect(countBetween([1, 2, 2.5, 3, 4], 2, 4)).toBe(3);
    expect(countBetween([], 0, 10)).toBe(0);
  });
});
