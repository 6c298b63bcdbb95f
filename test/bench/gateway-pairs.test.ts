// bench:gateway --pairs (bench/gateway/pairs.ts): which rows pair up, the order of each pair
// (alternating, so that neither side always runs second), and the summary of the ratios.
import { describe, expect, it } from 'vitest';
import { namedTwin, pairLine, pairOrders, pairResult, pairsSummaryTable, pairUp, readPairing, summarize, summaryLine, twins } from '../../bench/gateway/pairs.js';
import { recordMarkdown } from '../../bench/gateway/report.js';
import type { GatewayRecord } from '../../bench/gateway/report.js';

const named = (...names: string[]): { name: string }[] => names.map((name) => ({ name }));

describe('bench:gateway --pairs', () => {
  it('pairs each contender with its @baseline twin, the one named first going first; the others run alone', () => {
    const cs = named('sluice 2 workers', 'sluice 1 worker @baseline', 'node limit floor', 'sluice 1 worker', 'sluice 2 workers @baseline', 'sluice fixed @baseline');
    const { twins: found, rest } = twins(cs);
    expect(found.map((t) => [t.baseline.name, t.candidate.name, t.first])).toEqual([
      ['sluice 2 workers @baseline', 'sluice 2 workers', 'candidate'],
      ['sluice 1 worker @baseline', 'sluice 1 worker', 'baseline'],
    ]);
    // A twin missing from the list (--only left it out) leaves its partner unpaired.
    expect(rest.map((c) => c.name)).toEqual(['node limit floor', 'sluice fixed @baseline']);
    expect(twins(named('sluice 1 worker')).twins).toEqual([]);
  });

  it('pairs the two --pair-rows whatever their names, the first of them in the list going first', () => {
    const cs = named('haproxy nbthread 1', 'node limit floor http.Agent', 'node limit floor');
    const { twins: found, rest } = namedTwin(cs, 'node limit floor', 'node limit floor http.Agent');
    expect(found.map((t) => [t.baseline.name, t.candidate.name, t.first])).toEqual([['node limit floor', 'node limit floor http.Agent', 'candidate']]);
    expect(rest.map((c) => c.name)).toEqual(['haproxy nbthread 1']);
    // One of the two not picked (another section's list): nothing pairs.
    expect(namedTwin(named('node limit floor'), 'node limit floor', 'node limit floor http.Agent')).toEqual({ twins: [], rest: named('node limit floor') });
  });

  it('reads --pairs and --pair-rows, each error naming its own flag, what it expected and what it received', () => {
    const known = ['node limit floor', 'node limit floor http.Agent', 'sluice 1 worker'];
    expect(readPairing({}, known)).toEqual({ pairs: undefined, rows: undefined });
    expect(readPairing({ pairs: '2', baseline: '/tmp/b' }, known)).toEqual({ pairs: 2, rows: undefined });
    expect(readPairing({ pairs: '4', pairRows: ' node limit floor , node limit floor http.Agent' }, known)).toEqual({ pairs: 4, rows: ['node limit floor', 'node limit floor http.Agent'] });
    expect(() => readPairing({ pairs: '0', baseline: '/tmp/b' }, known)).toThrow('--pairs: expected a number of pairs >= 1, received "0"');
    expect(() => readPairing({ pairs: '2' }, known)).toThrow('--pairs: expected --baseline DIR (pairs are a contender and its @baseline twin) or --pair-rows A,B, received neither');
    expect(() => readPairing({ pairRows: 'node limit floor,sluice 1 worker' }, known)).toThrow('--pair-rows: expected two different contenders "BASELINE,CANDIDATE" and --pairs N, received --pair-rows "node limit floor,sluice 1 worker" and no --pairs');
    expect(() => readPairing({ pairs: '2', pairRows: 'sluice 1 worker,sluice 1 worker' }, known)).toThrow('--pair-rows: expected two different contenders');
    // A misspelt row is the --pair-rows flag's error (it was reported as --only's, a flag the command may not have had).
    expect(() => readPairing({ pairs: '2', pairRows: 'node limit floor,node limit flor' }, known)).toThrow(
      '--pair-rows: unknown contender(s) node limit flor; choose from node limit floor, node limit floor http.Agent, sluice 1 worker',
    );
  });

  it('pairs up by the flags: nothing without --pairs, the two --pair-rows with them, else each @baseline twin', () => {
    const cs = named('sluice 1 worker @baseline', 'node limit floor', 'sluice 1 worker', 'node limit floor http.Agent');
    expect(pairUp(cs, { pairs: undefined, rows: undefined })).toEqual({ twins: [], rest: cs });
    expect(pairUp(cs, { pairs: 2, rows: undefined }).twins.map((t) => t.candidate.name)).toEqual(['sluice 1 worker']);
    expect(pairUp(cs, { pairs: 2, rows: ['node limit floor', 'node limit floor http.Agent'] }).twins.map((t) => t.candidate.name)).toEqual(['node limit floor http.Agent']);
  });

  it('alternates which side goes first from pair to pair, each side first in half of an even count', () => {
    expect(pairOrders('baseline', 4)).toEqual([
      ['baseline', 'candidate'],
      ['candidate', 'baseline'],
      ['baseline', 'candidate'],
      ['candidate', 'baseline'],
    ]);
    expect(pairOrders('candidate', 3).map((o) => o[0])).toEqual(['candidate', 'baseline', 'candidate']);
    for (const n of [1, 2, 5, 6]) for (const o of pairOrders('baseline', n)) expect([...o].sort()).toEqual(['baseline', 'candidate']);
    expect(() => pairOrders('baseline', 0)).toThrow('pairs: expected an integer >= 1, received 0');
    expect(() => pairOrders('baseline', 1.5)).toThrow('received 1.5');
  });

  it('summarizes the ratios candidate ÷ baseline: the median and how many pairs favour each side', () => {
    const results = [pairResult(1, 'baseline', 1000, 1100), pairResult(2, 'candidate', 1000, 900), pairResult(3, 'baseline', 1000, 1050), pairResult(4, 'candidate', 1000, 1000)];
    expect(results.map((r) => r.ratio)).toEqual([1.1, 0.9, 1.05, 1]);
    expect(summarize(results)).toEqual({ median: 1.025, candidateAhead: 2, baselineAhead: 1, even: 1, invalid: 0, validMedian: 1.025 });
    expect(summarize(results.slice(0, 3)).median).toBe(1.05);
    // A baseline with no goodput gives no ratio: left out of the median, counted as neither side.
    const none = summarize([pairResult(1, 'baseline', 0, 0), pairResult(2, 'candidate', 1000, 800)]);
    expect(none).toEqual({ median: 0.8, candidateAhead: 0, baselineAhead: 1, even: 1, invalid: 0, validMedian: 0.8 });
    expect(summarize([]).median).toBeNaN();
    const set = { section: 'closed loop', candidate: 'sluice 1 worker', baseline: 'sluice 1 worker @baseline', at: '100 conns', results, summary: summarize(results) } as const;
    expect(summaryLine(set)).toBe('  sluice 1 worker ÷ sluice 1 worker @baseline at 100 conns: median ratio 1.025 over 4 pairs; candidate ahead in 2, baseline ahead in 1, even in 1');
    expect(pairsSummaryTable([set]).rows).toEqual([['closed loop', 'sluice 1 worker', '100 conns', '4', '1.025', '2', '1', '1', '0', '1.025']]);
  });

  it('marks a pair with a row that is not evidence, and gives the median of the others beside the median of all', () => {
    // The node:http-client A/B of bench/results/open-8x-node-client-ab-8055307-busy.md: only pair 3 had both rows on schedule.
    const results = [
      pairResult(1, 'candidate', 1385, 1345, false),
      pairResult(2, 'baseline', 1305, 800, false),
      pairResult(3, 'candidate', 1594, 1262),
      pairResult(4, 'baseline', 1571, 1419, false),
    ];
    expect(results[2]).not.toHaveProperty('invalid');
    const summary = summarize(results);
    expect(summary.invalid).toBe(3);
    expect(summary.validMedian).toBeCloseTo(0.7917, 4);
    expect(summary.median).toBeCloseTo(0.847, 3);
    const set = { section: 'open loop', candidate: 'sluice fixed', baseline: 'sluice fixed @baseline', at: '8x', results, summary } as const;
    expect(pairLine(set, results[1]!)).toBe('  pair 2 sluice fixed 8x: baseline first, goodput 800/s ÷ baseline 1305/s = 0.613 (a row INVALID)');
    expect(summaryLine(set)).toBe(
      '  sluice fixed ÷ sluice fixed @baseline at 8x: median ratio 0.847 over 4 pairs; candidate ahead in 0, baseline ahead in 4; 3 of them with an INVALID row, the median of the others 0.792',
    );
    expect(pairsSummaryTable([set]).rows[0]!.slice(-2)).toEqual(['3', '0.792']);
    expect(summarize(results.slice(0, 2)).validMedian).toBeNaN();
  });

  it('saves the pairs in the record: every pair with its order and ratio, then the summary', () => {
    const results = [pairResult(1, 'baseline', 2000, 2100), pairResult(2, 'candidate', 2000, 1900)];
    const record = {
      date: '2026-12-05T07:00:00Z',
      command: 'npm run bench:gateway -- --pairs 2',
      machine: { cpu: 'cpu', cores: 2, memoryGiB: 4, platform: 'linux', loadAverage: [1, 1, 1], node: 'v22', v8: '12' },
      sluice: { version: '0', revision: 'abc' },
      peers: {},
      settings: {},
      capacity: { nominal: 2500, measured: 2500 },
      contenders: [],
      rows: [],
      overhead: [],
      pairs: [{ section: 'closed loop', candidate: 'sluice 1 worker', baseline: 'sluice 1 worker @baseline', at: '100 conns', results, summary: summarize(results) }],
      goals: [],
      notes: [],
      seconds: 1,
    } as unknown as GatewayRecord;
    const md = recordMarkdown(record);
    expect(md).toMatch(/\| closed loop \| sluice 1 worker \| 100 conns \| +1 \| baseline +\| +2000 \| +2100 \| 1\.050 \|/);
    expect(md).toMatch(/\| closed loop \| sluice 1 worker \| 100 conns \| +2 \| candidate \| +2000 \| +1900 \| 0\.950 \|/);
    expect(md).toMatch(/\| closed loop \| sluice 1 worker \| 100 conns \| +2 \| +1\.000 \| +1 \| +1 \| +0 \|/);
  });
});
