// A worker's /status split into running totals and levels (src/gateway/status-totals.ts): what the
// primary carries of a dead worker (its counts) and what it does not (its connections, in flight, tokens).
import { describe, expect, it } from 'vitest';
import { emptyStatus } from '../../src/gateway/primary-slot.js';
import type { GatewayStatus } from '../../src/gateway/status.js';
import { addTotals, statusTotals, withTotals } from '../../src/gateway/status-totals.js';
import type { StatusTotals } from '../../src/gateway/status-totals.js';

const gate = (name: string, admitted: number, inFlight: number) => ({ name, kind: 'concurrency', inFlight, queued: inFlight, limit: 10, tokens: undefined, admitted, released: admitted - inFlight, rejected: { queue_full: admitted, shed: 1 } as never, dropped: 2, closed: false });

function worker(requests: number, open: number, policy = 'p'): GatewayStatus {
  const e = emptyStatus();
  return {
    ...e,
    uptimeMs: 5000,
    queued: open,
    counters: { ...e.counters, requests, admitted: requests },
    paused: { ...e.paused, now: open, total: requests },
    connections: { open, refusing: 0 },
    policies: [{ name: policy, key: policy, serviceMs: 12, refusingAll: false, rollout: { mode: 'enforce', percent: 100, shadowRefusals: { shed: 3 }, bypassed: 4 }, gates: [gate(`${policy}-concurrency`, requests, open)] }],
  };
}

describe('status totals', () => {
  it('takes the counts, not the levels, settings or times', () => {
    const t = statusTotals(worker(7, 2));
    expect(t.get('/counters/requests')).toBe(7);
    expect(t.get('/paused/total')).toBe(7);
    expect(t.get('/policies/0:p/gates/0:p-concurrency/admitted')).toBe(7);
    expect(t.get('/policies/0:p/gates/0:p-concurrency/rejected/queue_full')).toBe(7);
    expect(t.get('/policies/0:p/rollout/shadowRefusals/shed')).toBe(3);
    expect(t.get('/policies/0:p/rollout/bypassed')).toBe(4);
    const paths = [...t.keys()];
    for (const level of ['/connections/open', '/queued', '/paused/now', '/uptimeMs', '/policies/0:p/serviceMs', '/policies/0:p/gates/0:p-concurrency/inFlight', '/policies/0:p/gates/0:p-concurrency/limit', '/policies/0:p/rollout/percent']) expect(paths).not.toContain(level);
  });

  it('adds a dead worker’s totals to the same paths of the live sum, its levels not; a policy a reload removed is not shown again', () => {
    const dead: StatusTotals = new Map();
    addTotals(dead, statusTotals(worker(7, 2)));
    addTotals(dead, statusTotals(worker(5, 1, 'gone')));
    const shown = withTotals(worker(3, 1), dead);
    expect(shown.counters.requests).toBe(15);
    expect(shown.connections.open).toBe(1);
    expect(shown.queued).toBe(1);
    expect(shown.policies).toHaveLength(1);
    expect(shown.policies[0]!.gates[0]).toMatchObject({ admitted: 10, released: 7, inFlight: 1, limit: 10, rejected: { queue_full: 10, shed: 2 }, dropped: 4 });
    expect(shown.policies[0]!.serviceMs).toBe(12);
  });
});
