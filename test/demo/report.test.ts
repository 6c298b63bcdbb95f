// The demo's tables say when a phase's load was not sent on time, and then draw no conclusion.
import { describe, expect, it } from 'vitest';
import { MAX_VALID_LAG_MS } from '../../src/demo/phase-result.js';
import type { PhaseResult } from '../../src/demo/phase-result.js';
import { demoSummary, demoTables } from '../../src/cli/demo-report.js';

const phase = (run: string, multiple: number, maxLagMs: number): PhaseResult => ({
  run,
  multiple,
  offered: 1000 * multiple,
  goodput: 900,
  ok: 900,
  p50: 20,
  p99: 40,
  rejected: run === 'gateway' ? { '503': 3000 } : {},
  rejectedP99: 2,
  retryAfterShare: run === 'gateway' ? 1 : NaN,
  otherStatus: {},
  timeouts: 0,
  errors: 0,
  sent: 1000 * multiple,
  upstream: undefined,
  process: undefined,
  maxLagMs,
  valid: maxLagMs <= MAX_VALID_LAG_MS,
});

describe('demo report', () => {
  it('a phase whose generator ran late is marked INVALID in its row and under the tables; the summary compares nothing', () => {
    const phases = [phase('direct', 4, 3), phase('gateway', 4, 480)];
    const text = demoTables(phases, 1);
    expect(text).toMatch(/\ndirect .* yes\n/);
    expect(text).toMatch(/\ngateway .* NO: 480 ms late — INVALID/);
    expect(text).toContain(`INVALID: in 1 of 2 phases the load generator fell behind its schedule by more than ${MAX_VALID_LAG_MS} ms (up to 480 ms)`);
    expect(demoSummary(phases, 1000)).toBe('At 4x capacity: no comparison — the load generator fell behind its schedule (see INVALID above).');
  });

  it('on time: every row says yes, no INVALID note, and the summary compares the runs', () => {
    const phases = [phase('direct', 4, 3), phase('gateway', 4, 12)];
    const text = demoTables(phases, 1);
    expect(text).not.toContain('INVALID');
    expect(demoSummary(phases, 1000)).toContain('through the gateway:');
  });
});
