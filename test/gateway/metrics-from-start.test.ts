// The gateway's Prometheus counters count from its start, not from the first scrape: a
// Prometheus that begins scraping after a storm sees the storm's refusals. A reload that
// rebuilds a policy does not take them back.
import { afterEach, describe, expect, it } from 'vitest';
import { quickConfig } from '../../src/gateway/index.js';
import type { GatewayConfig } from '../../src/gateway/index.js';
import { cleanup, get, metricSample as sample, oneRoute, sluice, startInProcess, upstream } from './helpers.js';

afterEach(cleanup);

const config = (up: string, burst: number): GatewayConfig => ({ ...quickConfig({ upstream: up, port: 0, adminPort: 0, rate: '1/min', burst }), log: { level: 'silent' } });

describe('gateway metrics count from the start', () => {
  it('refusals made before the first scrape are in its sluice_rejections_total; a reload that rebuilds the policy keeps counting on', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess(config(up.url, 2));
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await get(gw.url)).status);
    expect(statuses).toEqual([200, 200, 429, 429, 429, 429, 429]);
    const first = (await get(`${gw.adminUrl}/metrics`)).body;
    expect(sample(first, 'sluice_rejections_total', { reason: 'rate_limited' })).toBe(5);
    expect(sample(first, 'sluice_admissions_total', { kind: 'keyed-rate' })).toBe(2);
    // Another burst: the policy's hash changes, its gates are built again under the same names.
    await gw.reload(config(up.url, 3));
    for (let i = 0; i < 5; i++) statuses.push((await get(gw.url)).status);
    expect(statuses.slice(7)).toEqual([200, 200, 200, 429, 429]);
    const after = await gw.metrics();
    expect(sample(after!, 'sluice_rejections_total', { reason: 'rate_limited' })).toBe(7);
    expect(sample(after!, 'sluice_admissions_total', { kind: 'keyed-rate' })).toBe(5);
    // prom-client's process metrics are there once.
    expect(after!.match(/^# TYPE process_cpu_seconds_total /gm)).toHaveLength(1);
  });

  it('a reload carries the gateway’s own counters: injected faults and shadow refusals go on from where they were', async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const faulty = (burst: number): GatewayConfig => ({
      ...oneRoute(up.url, '5s'),
      policies: { p: { rateLimits: [{ rate: '1/min', burst }], mode: 'shadow' } },
      routes: [{ path: '/', policy: 'p', fault: { abort: { status: 503, percent: 50 } } }],
      log: { level: 'silent' },
    });
    const gw = await startInProcess(faulty(1));
    for (let i = 0; i < 4; i++) await get(gw.url);
    const before = (await gw.metrics())!;
    expect(sample(before, 'sluice_faults_injected_total', { route: 'route-0', fault: 'abort' })).toBe(2);
    expect(sample(before, 'sluice_shadow_refusals_total', { policy: 'p', reason: 'rate_limited' })).toBe(3);
    // Every route's fault injector is built again, and the policy too (its burst changed).
    await gw.reload(faulty(2));
    for (let i = 0; i < 4; i++) await get(gw.url);
    const after = (await gw.metrics())!;
    expect(sample(after, 'sluice_faults_injected_total', { route: 'route-0', fault: 'abort' })).toBe(4);
    expect(sample(after, 'sluice_shadow_refusals_total', { policy: 'p', reason: 'rate_limited' })).toBe(5);
  });

  it('with workers: the primary’s first scrape has the refusals every worker made before it', { timeout: 240_000 }, async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const s = sluice(['gateway', '--upstream', up.url, '--port', '0', '--admin-port', '0', '--rate', '1/min', '--burst', '2', '--workers', '2']);
    const l = await s.waitFor('listening', 120_000);
    const url = String(l['url']);
    const adminUrl = String(l['adminUrl']);
    let refused = 0;
    let ok = 0;
    for (let i = 0; i < 12; i++) {
      const st = (await get(url)).status;
      if (st === 429) refused++;
      else if (st === 200) ok++;
    }
    expect(ok).toBe(2);
    expect(refused).toBe(10);
    const first = (await get(`${adminUrl}/metrics`)).body;
    expect(sample(first, 'sluice_rejections_total', { reason: 'rate_limited' })).toBe(10);
  });
});
