// Two gateways in one process (tests, or an application embedding startGateway) whose
// policies have the same names: each one's /metrics counts its own gates' decisions only,
// not the other's under the same gate names.
import { afterEach, describe, expect, it } from 'vitest';
import { quickConfig } from '../../src/gateway/index.js';
import type { GatewayConfig } from '../../src/gateway/index.js';
import { cleanup, get, metricSample as sample, startInProcess, upstream } from './helpers.js';

afterEach(cleanup);

// The same config for both: a policy `default`, rate 1/min with a burst of 2, and a concurrency limit.
const config = (up: string, burst: number): GatewayConfig => ({ ...quickConfig({ upstream: up, port: 0, adminPort: 0, rate: '1/min', burst, concurrency: 8 }), log: { level: 'silent' } });

describe('in-process gateways count only their own gates', () => {
  it('gateway B’s /metrics has none of the admissions and refusals of gateway A’s same-named gates, before and after a reload', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const a = await startInProcess(config(up.url, 2));
    const b = await startInProcess(config(up.url, 2));
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await get(a.url)).status);
    expect(statuses).toEqual([200, 200, 429, 429, 429]);

    const mineA = (await get(`${a.adminUrl}/metrics`)).body;
    expect(sample(mineA, 'sluice_admissions_total', { kind: 'keyed-rate' })).toBe(2);
    expect(sample(mineA, 'sluice_rejections_total', { reason: 'rate_limited' })).toBe(3);
    expect(sample(mineA, 'sluice_releases_total', { kind: 'concurrency' })).toBe(2);
    const otherB = (await get(`${b.adminUrl}/metrics`)).body;
    // B was not asked anything: no decision series at all (its gauges are there, its own).
    for (const family of ['sluice_admissions_total', 'sluice_rejections_total', 'sluice_releases_total', 'sluice_queue_wait_seconds_count', 'sluice_latency_seconds_count']) {
      expect(sample(otherB, family), family).toBeUndefined();
    }
    expect(sample(otherB, 'sluice_in_flight', { kind: 'concurrency' })).toBe(0);

    // A reload of B builds its policy again (the burst changed). B's rebuilt gates count B's
    // own requests from the first, with no scrape between (none of A's, still).
    await b.reload(config(up.url, 3));
    for (let i = 0; i < 2; i++) expect((await get(a.url)).status).toBe(429);
    for (let i = 0; i < 4; i++) statuses.push((await get(b.url)).status);
    expect(statuses.slice(5)).toEqual([200, 200, 200, 429]);
    const afterB = (await b.metrics())!;
    expect(sample(afterB, 'sluice_admissions_total', { kind: 'keyed-rate' })).toBe(3);
    expect(sample(afterB, 'sluice_rejections_total', { reason: 'rate_limited' })).toBe(1);
    const afterA = (await a.metrics())!;
    expect(sample(afterA, 'sluice_admissions_total', { kind: 'keyed-rate' })).toBe(2);
    expect(sample(afterA, 'sluice_rejections_total', { reason: 'rate_limited' })).toBe(5);
  });
});
