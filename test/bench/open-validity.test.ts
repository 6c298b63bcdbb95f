import { describe, expect, it } from 'vitest';
import { judgeGateway, rssGrowthMb } from '../../bench/gateway/goals.js';
import type { Measurement } from '../../bench/gateway/measure.js';
import { capacityLine, MAX_VALID_LAG_MS, openCapacity, openRowValidity } from '../../bench/gateway/open-validity.js';

/** An 8x row of the fixed gateway: collapsed goodput, refusals slow, Retry-After on every one. */
function row(maxLagMs: number, over: Partial<Measurement> = {}): Measurement {
  return {
    contender: 'sluice fixed', multiple: 8, offered: 20_000, seconds: 10, sent: 200_000, goodput: 110, p50: 1828, p99: 2205, refused: 171_421, refusedByStatus: { 503: 171_421 },
    refusedP99: 2092, retryAfterShare: 1, timeouts: 27_011, errors: 0, otherStatus: {}, upstreamServedPerS: 110, upstreamPeakQueue: 0, cpuPct: 100, cpuMs: 10_000,
    rssSeriesMb: [207, 228], maxLagMs, listenOverflows: 32_330, statusRefused: 184_863, statusQueueTimeouts: 184_863, generatorCpuPct: 97, upstreamMeanInService: 5.6, upstreamServedToGone: 0, ...over,
  };
}

const judge = (top: Measurement) => judgeGateway({ top, capacity: 2428, serviceMs: 20, queueTimeoutMs: 100, overhead: { bare: [], gateway: [] } }, 'sluice fixed');

describe('bench:gateway open-loop validity', () => {
  it('marks a row invalid past the demo\'s lag bound, with the lag and the generator\'s CPU', () => {
    expect(openRowValidity({ maxLagMs: MAX_VALID_LAG_MS })).toEqual({ valid: true });
    expect(openRowValidity({ maxLagMs: NaN })).toEqual({ valid: true });
    const v = openRowValidity({ maxLagMs: 341.1, generatorCpuPct: 97.4 });
    expect(v.valid).toBe(false);
    expect(v.why).toBe('the generator ran 341 ms behind its schedule (over 100 ms, generator CPU 97%): the load was not offered as planned');
  });

  it('does not judge the goals of a row whose generator fell behind, and keeps its figures', () => {
    const goals = judge(row(341));
    expect(goals).toHaveLength(5);
    for (const g of goals) {
      expect(g.judged).toBe(false);
      expect(g.met).toBe(false);
      expect(g.figure).toMatch(/^the generator ran 341 ms behind its schedule .*; measured /);
    }
    expect(goals[0]!.figure).toContain('110 req/s = 4.5%');
  });

  it('judges a row loaded on schedule: missed is missed, met is met', () => {
    const goals = judge(row(59));
    expect(goals.map((g) => [g.judged, g.met])).toEqual([[undefined, false], [undefined, false], [undefined, false], [undefined, true], [undefined, true]]);
  });

  it('sets the refusal p99 beside the node 503 floor\'s of the same run', () => {
    const floor = row(40, { contender: 'node 503 floor', goodput: 0, refusedP99: 71.3 });
    const goals = judgeGateway({ top: row(59), floor, capacity: 2428, serviceMs: 20, queueTimeoutMs: 100, overhead: { bare: [], gateway: [] } }, 'sluice fixed');
    expect(goals[2]!.figure).toBe('2092.0 ms over 171421 rejections; the node 503 floor, refusing at once with no gateway, measured 71.3 ms in this run: this harness cannot show 5 ms on this machine at this load');
    expect(goals[2]!.met).toBe(false);
    const quiet = judgeGateway({ top: row(59, { refusedP99: 3.2 }), floor: row(40, { refusedP99: 2.1 }), capacity: 2428, serviceMs: 20, queueTimeoutMs: 100, overhead: { bare: [], gateway: [] } }, 'sluice fixed');
    expect(quiet[2]).toMatchObject({ met: true, figure: '3.2 ms over 171421 rejections; the node 503 floor, refusing at once with no gateway, measured 2.1 ms in this run' });
  });

  it('takes RSS growth from the trend of the samples, not from where the last one fell on a GC tooth', () => {
    expect(rssGrowthMb({ rssSeriesMb: [100, 110, 120, 130] })).toBeCloseTo(30, 9);
    // A flat sawtooth that ends on a peak: last − first is +60, the trend small.
    const saw = [160, 220, 160, 220, 160, 220, 160, 220];
    expect(saw.at(-1)! - saw[0]!).toBe(60);
    expect(rssGrowthMb({ rssSeriesMb: saw })).toBeCloseTo(20, 9);
    expect(rssGrowthMb({ rssSeriesMb: [100] })).toBeNaN();
    expect(judge(row(59, { rssSeriesMb: saw }))[4]).toMatchObject({ met: true, figure: '+20.0 MB over 10 s (samples 160 → 220 MB, peak 220)' });
  });

  it('measures capacity only in rows that kept the upstream\'s slots busy, else takes the nominal', () => {
    const rows = [
      { contender: 'sluice fixed', multiple: 8, upstreamServedPerS: 242, upstreamMeanInService: 5.6 },
      { contender: 'haproxy maxconn', multiple: 8, upstreamServedPerS: 2263, upstreamMeanInService: 46.1 },
      { contender: 'no proxy', multiple: 8, upstreamServedPerS: NaN, upstreamMeanInService: 50 },
    ];
    expect(openCapacity(rows, 2500, 50)).toEqual({ capacity: 2263, from: ['haproxy maxconn 8x'], rows: 3 });
    // Only collapsed rows: 242 req/s is not the upstream's capacity.
    const alone = openCapacity(rows.slice(0, 1), 2500, 50);
    expect(alone).toEqual({ capacity: 2500, from: [], rows: 1 });
    expect(capacityLine(alone, 2500, 50)).toContain('no open-loop row kept 45 of its 50 slots busy');
    // A closed-loop-only run has no open-loop rows to blame.
    expect(capacityLine(openCapacity([], 2500, 50), 2500, 50)).toBe('upstream capacity: 2500 req/s nominal (no open-loop rows)');
    // A record from before the upstream's mean in service was measured: every row counts.
    expect(openCapacity([{ contender: 'x', multiple: 2, upstreamServedPerS: 2100 }], 2500, 50).capacity).toBe(2100);
  });
});
