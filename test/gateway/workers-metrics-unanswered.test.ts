// `sluice gateway --workers 2`, prom-client installed, and no worker has answered a scrape yet
// (both stopped here; on a slow start, still loading): /metrics says so with a 503 — not the 501
// "metrics need prom-client" it answered before, which sent an operator to install what was
// installed. Once a worker answers, the page is served; after that a scrape nobody answers
// serves the counters as last seen (workers-metrics.test.ts).
import { afterEach, describe, expect, it } from 'vitest';
import type { PrimaryStatus } from '../../src/gateway/primary.js';
import { WORKERS_START_MS, WORKERS_TEST_MS, cleanup, get, sluice, upstream, within } from './helpers.js';

afterEach(cleanup);

describe('sluice gateway --workers 2: /metrics before any worker answered', () => {
  it('answers 503 naming the cause while no worker answers, then the page once one does', { timeout: WORKERS_TEST_MS }, async () => {
    const up = await upstream((_req, res) => res.end('ok'));
    const gw = sluice(['gateway', '--upstream', up.url, '--port', '0', '--host', '127.0.0.1', '--admin-port', '0', '--workers', '2']);
    const l = await gw.waitFor('listening', WORKERS_START_MS);
    const adminUrl = String(l['adminUrl']);
    const status = async (): Promise<PrimaryStatus> => JSON.parse((await get(`${adminUrl}/status`)).body) as PrimaryStatus;
    expect(await within(60_000, async () => (await status()).workers.every((w) => w.pid > 0 && w.status !== undefined), 10)).toBe(true);
    const pids = (await status()).workers.map((w) => w.pid);
    expect(pids).toHaveLength(2);
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    try {
      const r = await get(`${adminUrl}/metrics`, { headers: { 'x-prometheus-scrape-timeout-seconds': '1' } });
      expect(r.status).toBe(503);
      expect(r.body).toMatch(/^no worker answered the metrics scrape within \d+ ms \(2 asked; none has answered one yet\)\n$/);
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    }
    const page = await get(`${adminUrl}/metrics`);
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/^# HELP /m);
  });
});
