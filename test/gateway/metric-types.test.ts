// The gateway's /metrics, every sluice family typed by what it does (test/metrics/exposition.ts):
// scraped at rest, put to work (admissions, queueing, refusals by rate and by queue, a bad
// request, an upstream failure, a fault), scraped at rest again — a series higher than before
// must be a counter's — and `promtool check metrics` on the page when promtool is installed: not a word.
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../../src/gateway/index.js';
import { promtoolCheck, promtoolPath, typeMisfits } from '../metrics/exposition.js';
import { cleanup, get, startInProcess, upstream, within } from './helpers.js';

afterEach(cleanup);

describe('gateway /metrics: each sluice family typed by what it does', () => {
  it('totals are counters named *_total, levels gauges back at rest; promtool finds nothing', async () => {
    let release: (() => void) | undefined;
    const up = await upstream((req, res) => {
      if (req.url?.startsWith('/api/slow') === true) release = () => res.end('slow');
      else {
        res.statusCode = req.url?.includes('fail') === true ? 500 : 200;
        res.end('ok');
      }
    });
    const config = {
      listen: { host: '127.0.0.1', port: 0 },
      admin: { port: 0 },
      upstreams: { app: { url: up.url, timeout: '5s' } },
      policies: {
        api: { tenant: { header: 'x-api-key' }, rateLimits: [{ name: 'burst', rate: '1/min', burst: 4 }], concurrency: { limit: 1, queue: 1, queueTimeout: '5s' } },
      },
      routes: [{ name: 'api', path: '/api', policy: 'api' }],
      log: { level: 'silent' },
    } as GatewayConfig;
    const gw = await startInProcess(config);
    const before = (await gw.metrics())!;

    // One request holds the slot, one queues, one is refused queue_full; then tenant k2 spends its burst.
    const slow = get(`${gw.url}/api/slow`, { headers: { 'x-api-key': 'k1' } });
    expect(await within(10_000, () => release !== undefined)).toBe(true);
    const queued = get(`${gw.url}/api/q`, { headers: { 'x-api-key': 'k1' } });
    expect(await within(10_000, async () => /^sluice_queue_depth\{[^}]*\} 1$/m.test((await gw.metrics())!))).toBe(true);
    expect((await get(`${gw.url}/api/full`, { headers: { 'x-api-key': 'k3' } })).status).toBe(503);
    release!();
    expect((await slow).status).toBe(200);
    expect((await queued).status).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await get(`${gw.url}/api/${i === 0 ? 'fail' : 'x'}`, { headers: { 'x-api-key': 'k2' } })).status);
    expect(statuses).toContain(429);
    await get(`${gw.url}/%zz`); // a bad request

    // At rest: nothing in flight or queued.
    expect(await within(10_000, async () => /^sluice_in_flight\{[^}]*\} 0$/m.test((await gw.metrics())!))).toBe(true);
    const after = (await gw.metrics())!;
    expect(typeMisfits(before, after, (name) => name.startsWith('sluice_'))).toEqual([]);
    expect(after).toMatch(/^sluice_rejections_total\{[^}]*reason="rate_limited"[^}]*\} [1-9]/m);
    expect(after).toMatch(/^sluice_rejections_total\{[^}]*reason="queue_full"[^}]*\} 1$/m);
    expect(after).toMatch(/^sluice_bad_requests_total\{[^}]*\} 1$/m);

    const promtool = promtoolPath();
    if (promtool === null) {
      console.warn('[gateway metric-types] SKIPPED promtool check metrics: promtool is not installed (Debian: apt-get install prometheus)');
    } else {
      // Nothing, prom-client's default metrics included: its gauges named *_total
      // (nodejs_active_handles_total and two more) are left out of the page. Before: promtool
      // said 'nodejs_active_handles_total non-counter metrics should not have "_total" suffix'.
      expect(promtoolCheck(after)).toEqual({ status: 0, output: '' });
      expect(after).toMatch(/^nodejs_active_handles\{type="[A-Za-z]+"\} \d+$/m);
    }
  });
});
