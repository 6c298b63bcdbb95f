// A smoke test of the adaptive simulation: short phases, directional claims only (the figures
// themselves are what `npm run sim:adaptive` prints).
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { simAdaptiveCommand } from '../../src/cli/sim-adaptive.js';
import { simulateAdaptive } from '../../src/sim/adaptive.js';
import type { PhaseResult } from '../../src/sim/adaptive.js';
import type { Scenario } from '../../src/sim/adaptive-scenarios.js';
import { SimServer } from '../../src/sim/adaptive-server.js';

// Long enough for AIMD (+1 per 100 ms window) and Gradient2 (+0.8) to climb from their initial 20 to a knee of 100.
const short = { phaseMs: 10_000, steadyMs: 3000 } as const;
const one = (scenario: Scenario, limiter: Parameters<typeof simulateAdaptive>[1]): PhaseResult[] => simulateAdaptive(scenario, limiter, short);
const steady10x: Scenario = { name: 'steady 10x', phases: [{ label: '10x', durationMs: 10_000, load: 10, capacityFactor: 1, latencyFactor: 1 }] };

describe('the simulated server', () => {
  it('runs `capacity` requests at base latency and shares itself beyond the knee (Little\'s law)', () => {
    const s = new SimServer<number>(2, 10);
    for (let i = 0; i < 4; i++) s.start(i); // 4 in flight, knee 2: each at half speed
    expect(s.nextDoneAt()).toBeCloseTo(20, 9); // L · 4 / 2
    s.advanceTo(20);
    expect([s.takeDone(), s.takeDone(), s.takeDone(), s.takeDone(), s.takeDone()]).toEqual([0, 1, 2, 3, undefined]);
  });
});

// Minutes of virtual time simulated request by request: seconds of CPU, which beside CPU hogs
// took past the default 20 s. The timeout only guards against a hang; the claims are counts.
describe('sim-adaptive (short run)', { timeout: 120_000 }, () => {
  it('at 10x, every adaptive limit keeps goodput near capacity where no limit collapses, at a fraction of its latency', () => {
    const none = one(steady10x, 'none')[0]!;
    expect(none.goodput).toBeLessThan(0.2);
    for (const limiter of ['aimd', 'vegas', 'gradient2'] as const) {
      const r = one(steady10x, limiter)[0]!;
      expect(r.goodput).toBeGreaterThan(none.goodput + 0.6);
      expect(r.p99Ms).toBeLessThan(3 * r.baseLatencyMs);
      expect(r.rejected).toBeGreaterThan(0.8); // the excess is refused at once, not queued
    }
  });

  it('Vegas and AIMD settle near the knee and follow it down when the server loses half its capacity', () => {
    const halves: Scenario = {
      name: 'capacity halves',
      phases: [
        { label: 'C', durationMs: 10_000, load: 4, capacityFactor: 1, latencyFactor: 1 },
        { label: 'C/2', durationMs: 10_000, load: 4, capacityFactor: 0.5, latencyFactor: 1 },
      ],
    };
    for (const limiter of ['aimd', 'vegas'] as const) {
      const [before, after] = one(halves, limiter);
      expect(before!.limitMean / before!.knee).toBeGreaterThan(0.8);
      expect(before!.limitMean / before!.knee).toBeLessThan(1.3);
      expect(after!.limitMean).toBeLessThan(before!.limitMean * 0.7);
      expect(after!.limitMean / after!.knee).toBeLessThan(1.3);
      expect(after!.goodput).toBeGreaterThan(0.9);
    }
    // A fixed limit set for the old knee now lets twice too much in: latency doubles.
    const [, fixed] = one(halves, 'fixed');
    expect(fixed!.p99Ms).toBeGreaterThan(1.8 * fixed!.baseLatencyMs);
  });

  it('is deterministic for a seed', () => {
    expect(one(steady10x, 'vegas')).toEqual(one(steady10x, 'vegas'));
  });

  it('the command prints the table and the goals, or JSON', () => {
    let text = '';
    const out = new Writable({ write: (chunk: Buffer, _enc, done) => ((text += chunk.toString()), done()) });
    expect(simAdaptiveCommand(['--phase', '2s', '--steady', '1s'], out)).toBe(0);
    expect(text).toContain('Steady load');
    expect(text).toMatch(/goodput at 10x >= 95% of capacity +vegas +(yes|NO)/);
    let json = '';
    const jout = new Writable({ write: (chunk: Buffer, _enc, done) => ((json += chunk.toString()), done()) });
    expect(simAdaptiveCommand(['--phase', '2s', '--steady', '1s', '--json'], jout)).toBe(0);
    const parsed = JSON.parse(json) as { results: PhaseResult[]; goals: unknown[]; unloadedP99Ms: number };
    expect(parsed.results.length).toBe(5 * (5 + 2 + 3 + 2));
    expect(parsed.goals).toHaveLength(12);
    expect(parsed.unloadedP99Ms).toBeCloseTo(20, 6);
    expect(() => simAdaptiveCommand(['--arrivals', 'bursty'], out)).toThrow(/--arrivals/);
    expect(() => simAdaptiveCommand(['--phase', '2'], out)).toThrow('--phase: expected a duration from 1s to 1h (with its unit: 100ms, 2s, 1.5m, 1h, 1d), received "2"');
  });
});
