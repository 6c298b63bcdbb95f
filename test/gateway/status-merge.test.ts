// The primary's /status with workers: counts are summed over the workers, limits are the gateway's.
import { describe, expect, it } from 'vitest';
import type { GatewayStatus } from '../../src/gateway/status.js';
import { mergeGroupSamples } from '../../src/dashboard/merge-samples.js';
import type { GroupSample } from '../../src/dashboard/group-sampler.js';
import { gatewayGroupLimits, gatewayLimits, mergeStatuses } from '../../src/gateway/status-merge.js';

function gate(kind: string, limit: number, inFlight: number, tokens?: number): Record<string, unknown> {
  return { name: kind, kind, inFlight, queued: 0, limit, tokens, admitted: 10, released: 10 - inFlight, dropped: 0, closed: false };
}

function worker(gates: Record<string, unknown>[]): GatewayStatus {
  return { state: 'serving', policies: [{ name: 'p', key: 'k', serviceMs: 20, refusingAll: false, gates }] } as unknown as GatewayStatus;
}

describe('mergeStatuses + gatewayLimits', () => {
  it('a leased concurrency limit reads the shared limit, not the sum with a worker’s ballast; a bucket is one bucket; an adaptive limit is summed', () => {
    // Worker 0 holds all 6 slots; worker 1 holds none and keeps its gate's one slot as ballast (limit 1).
    const a = worker([gate('concurrency', 6, 5), gate('rate', 100, 0, 40), gate('adaptive', 30, 3)]);
    const b = worker([gate('concurrency', 1, 0), gate('rate', 100, 0, 70), gate('adaptive', 25, 2)]);
    const summed = mergeStatuses([a, b])!;
    expect(summed.policies[0]!.gates[0]!.limit).toBe(7);
    const merged = gatewayLimits(summed, a, { 'k/concurrency': { limit: 6 } });
    const [conc, rate, adaptive] = merged.policies[0]!.gates;
    expect(conc!.limit).toBe(6);
    expect(conc!.inFlight).toBe(5);
    expect(rate!.limit).toBe(100);
    expect(rate!.tokens).toBe(110);
    expect(adaptive!.limit).toBe(55);
    expect(adaptive!.inFlight).toBe(5);
  });

  it('mid-reload, workers on different tables: policies are summed with the same policy (by key), not by position', () => {
    // Worker a reloaded (policy k2 added in front); worker b still runs the old table.
    const pol = (key: string, gates: Record<string, unknown>[]): Record<string, unknown> => ({ name: key, key, serviceMs: 20, refusingAll: false, gates });
    const a = { state: 'serving', policies: [pol('k2', [gate('rate', 50, 0, 5)]), pol('k', [gate('concurrency', 4, 3), gate('concurrency', 2, 1)])] } as unknown as GatewayStatus;
    const b = { state: 'serving', policies: [pol('k', [gate('concurrency', 4, 2), gate('concurrency', 2, 2)])] } as unknown as GatewayStatus;
    const merged = mergeStatuses([a, b])!;
    expect(merged.policies.map((p) => p.key)).toEqual(['k2', 'k']);
    expect(merged.policies[0]!.gates.map((g) => g.inFlight)).toEqual([0]);
    expect(merged.policies[0]!.gates[0]!.tokens).toBe(5);
    // Two gates of one name stay two: the first with the first, the second with the second.
    expect(merged.policies[1]!.gates.map((g) => g.inFlight)).toEqual([5, 3]);
    expect(gatewayLimits(merged, b, {}).policies[0]!.gates[0]!.limit).toBe(50);
  });

  it('settings are not summed: a route fault, a canary percent, a keyed bucket; a breaker’s time to close is the longest (hostile-12)', () => {
    const fault = (delayed: number): Record<string, unknown> => ({ delayMs: 10, delayPercent: 20, abortStatus: 503, abortPercent: 10, delayed, aborted: 1 });
    const one = (delayed: number, bypassed: number, retryAfterMs: number): GatewayStatus =>
      ({
        state: 'serving',
        routes: [{ name: 'r', path: '/api', upstream: 'app', policy: 'p', fault: fault(delayed) }],
        policies: [
          {
            name: 'p',
            key: 'k',
            serviceMs: 20,
            refusingAll: false,
            rollout: { mode: 'canary', percent: 10, shadowRefusals: {}, bypassed },
            gates: [
              { ...gate('keyed-rate', 5, 0), keys: 3 },
              { ...gate('circuit-breaker', 0, 0), limit: null, state: 'open', retryAfterMs },
            ],
          },
        ],
      }) as unknown as GatewayStatus;
    const [a, b] = [one(2, 4, 3_000), one(3, 5, 7_000)];
    const merged = gatewayLimits(mergeStatuses([a, b])!, a, {});
    expect(merged.routes[0]!.fault).toEqual({ delayMs: 10, delayPercent: 20, abortStatus: 503, abortPercent: 10, delayed: 5, aborted: 2 });
    expect(merged.policies[0]!.rollout).toEqual({ mode: 'canary', percent: 10, shadowRefusals: {}, bypassed: 9 });
    const [keyed, breaker] = merged.policies[0]!.gates;
    expect(keyed!.limit).toBe(5);
    expect(keyed!.admitted).toBe(20);
    expect((breaker as unknown as { retryAfterMs: number }).retryAfterMs).toBe(7_000);
  });

  it('a breaker open in one worker shows open in the merged status, whatever worker 0 says (worst state: forced-open, open, half-open, closed, disabled)', () => {
    const one = (state: string): GatewayStatus => worker([{ ...gate('circuit-breaker', 0, 0), limit: null, state, retryAfterMs: state === 'open' ? 4_000 : 0 }]);
    const stateOf = (states: string[]): unknown => (mergeStatuses(states.map(one))!.policies[0]!.gates[0] as unknown as { state: string }).state;
    expect(stateOf(['closed', 'open'])).toBe('open');
    expect(stateOf(['closed', 'half-open', 'closed'])).toBe('half-open');
    expect(stateOf(['open', 'forced-open'])).toBe('forced-open');
    expect(stateOf(['disabled', 'closed'])).toBe('closed');
    expect(stateOf(['closed', 'closed'])).toBe('closed');
    // The gateway's own state is still draining-if-any, not a breaker's.
    expect(mergeStatuses([one('open'), { ...one('closed'), state: 'draining' } as GatewayStatus])!.state).toBe('draining');
  });

  it('the dashboard: a leased group shows the shared limit; a group without a lease keeps the sum', () => {
    const sample = (name: string, limit: number | null, inFlight: number): GroupSample => ({ name, admitted: 10, refused: {}, admittedPerSec: 1, refusedPerSec: {}, shadowPerSec: {}, inFlight, limit, queued: 0, waitP50Ms: null, waitP99Ms: null, latencyP50Ms: null, latencyP99Ms: null, breaker: null, pressure: null, topTenants: [], info: {} });
    const merged = mergeGroupSamples([[sample('p', 6, 5), sample('q', 30, 1)], [sample('p', 1, 0), sample('q', 25, 2)]]);
    expect(merged.find((g) => g.name === 'p')!.limit).toBe(7);
    const first = { state: 'serving', policies: [{ name: 'p', key: 'k', gates: [] }, { name: 'q', key: 'kq', gates: [] }] } as unknown as GatewayStatus;
    const shown = gatewayGroupLimits(merged, first, { 'k/concurrency': { limit: 6 } });
    expect(shown.find((g) => g.name === 'p')!.limit).toBe(6);
    expect(shown.find((g) => g.name === 'p')!.inFlight).toBe(5);
    expect(shown.find((g) => g.name === 'q')!.limit).toBe(55);
    expect(gatewayGroupLimits(merged, undefined, { 'k/concurrency': { limit: 6 } })).toEqual(merged);
  });
});
