// The gateway's /dashboard under a crowd: 1,000 pages at once meet the cap of open pages
// (ADMIN_DASHBOARD_PAGES, 8) with a 503 and Retry-After; the pages left open leave room on
// the admin listener for /metrics and /status, and /metrics counts the pages turned away.
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, get, metricSample, onCleanup, oneLimitYaml, sluice, startInProcess, tempDir, upstream } from '../gateway/helpers.js';

afterEach(cleanup);

/** Open the event stream: its status, and (200) the stream is left open until cleanup. */
function open(url: string): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/dashboard/events`, { agent: false }, (res) => {
      resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'] });
      res.resume();
    });
    req.on('error', reject);
    req.end();
    onCleanup(async () => void req.destroy());
  });
}

describe('gateway /dashboard pages', () => {
  it('1,000 pages at once: 8 open, the rest answered 503 with Retry-After; /metrics and /status are still answered and count the pages refused', { timeout: 120_000 }, async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = await startInProcess({ listen: { host: '127.0.0.1', port: 0 }, admin: { port: 0 }, upstreams: { app: { url: up.url } }, routes: [{ path: '/' }] });
    const before = await get(`${gw.adminUrl}/metrics`);
    expect(before.body).toContain('sluice_dashboard_pages_total{outcome="refused"} 0');
    const answers = await Promise.all(Array.from({ length: 1000 }, () => open(gw.adminUrl)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(8);
    // Turned away by the dashboard (Retry-After: 5), or by the admin listener while those
    // requests are in progress (Retry-After: 1): every one answered.
    expect(answers.filter((a) => a.status === 503 && (a.retryAfter === '5' || a.retryAfter === '1'))).toHaveLength(992);
    // Before: 20 pages took every slot of the admin listener, and the scrape was answered 503.
    const scrape = await get(`${gw.adminUrl}/metrics`);
    expect(scrape.status).toBe(200);
    const refused = Number(/^sluice_dashboard_pages_total\{outcome="refused"\} (\d+)$/m.exec(scrape.body)?.[1]);
    expect(refused).toBeGreaterThan(0);
    expect(scrape.body).toContain('sluice_dashboard_pages_total{outcome="dropped"} 0');
    expect((await get(`${gw.adminUrl}/status`)).status).toBe(200);
    const extra = await get(`${gw.adminUrl}/dashboard/events`);
    expect([extra.status, extra.body]).toEqual([503, 'too many dashboard pages open\n']);
  });

  it('with workers: the pages the primary turned away are counted in its /metrics (the workers serve no pages: theirs read 0)', { timeout: 240_000 }, async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const file = join(tempDir(), 'sluice.yaml');
    writeFileSync(file, oneLimitYaml(up.url, 10, 'workers: 2'));
    const gw = sluice(['gateway', '--config', file]);
    const adminUrl = String((await gw.waitFor('listening', 120_000))['adminUrl']);
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await open(adminUrl));
    expect(answers.map((a) => a.status)).toEqual([...Array<number>(8).fill(200), 503, 503]);
    const scrape = (await get(`${adminUrl}/metrics`)).body;
    // Before: two samples per outcome, worker="0" and worker="1", all 0.
    expect(metricSample(scrape, 'sluice_dashboard_pages_total', { outcome: 'refused' })).toBe(2);
    expect(metricSample(scrape, 'sluice_dashboard_pages_total', { outcome: 'dropped' })).toBe(0);
    expect(scrape).not.toMatch(/^sluice_dashboard_pages_total\{worker=/m);
    expect(scrape.match(/^# TYPE sluice_dashboard_pages_total counter$/gm)).toHaveLength(1);
    // The workers' own series are still theirs.
    expect(scrape).toMatch(/^sluice_connections_over_limit_total\{worker="1",outcome="refused"\} 0$/m);
  });
});
